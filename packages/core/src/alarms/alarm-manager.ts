export type AlarmSeverity = "clear" | "warning" | "minor" | "major" | "critical";

export interface AlarmEvent {
  /** e.g. "200.005" */
  readonly id: string;
  readonly hostname: string;
  readonly severity: AlarmSeverity;
  /** Entity id suffix, e.g. "Management", "Cluster-host", "process=pmond". */
  readonly entity?: string;
  readonly text: string;
}

export interface ActiveAlarm extends AlarmEvent {
  readonly raisedAt: number;
}

/** Raises and clears 200.xxx alarms with de-duplication; fans out to the configured sinks. */
export interface AlarmManager {
  raise(alarm: AlarmEvent): void;
  clear(id: string, hostname: string, entity?: string): void;
  active(): readonly ActiveAlarm[];
}
