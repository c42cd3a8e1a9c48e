import type { AlarmEvent } from "./alarm-manager.js";

/** Where a raised, cleared or logged alarm goes (log, history file, SNMP trap). */
export interface AlarmRecord extends AlarmEvent {
  operation: "set" | "clear" | "msg";
  at: number;
}

export interface AlarmSink {
  readonly name: string;
  deliver(record: AlarmRecord): Promise<void> | void;
  close?(): Promise<void> | void;
}
