import type { ActiveAlarm, AlarmEvent, AlarmManager } from "../../src/alarms/alarm-manager.js";

/** The smallest AlarmManager: de-duplicated in memory, with a history of raise/clear calls for assertions. */
export class MemoryAlarms implements AlarmManager {
  readonly history: Array<{ op: "raise" | "clear"; id: string; hostname: string; severity?: string }> = [];
  private readonly map = new Map<string, ActiveAlarm>();

  raise(alarm: AlarmEvent): void {
    const key = `${alarm.id}|${alarm.hostname}|${alarm.entity ?? ""}`;
    if (this.map.get(key)?.severity === alarm.severity) return;
    this.map.set(key, { ...alarm, raisedAt: Date.now() });
    this.history.push({ op: "raise", id: alarm.id, hostname: alarm.hostname, severity: alarm.severity });
  }

  clear(id: string, hostname: string, entity?: string): void {
    if (this.map.delete(`${id}|${hostname}|${entity ?? ""}`)) this.history.push({ op: "clear", id, hostname });
  }

  active(): readonly ActiveAlarm[] {
    return [...this.map.values()];
  }
}
