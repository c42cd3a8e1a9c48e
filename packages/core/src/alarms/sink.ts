import type { StateTarget } from "../logging/state-writes.js";
import type { AlarmEvent } from "./alarm-manager.js";

/** Where a raised, cleared or logged alarm goes (log, history file, SNMP trap). */
export interface AlarmRecord extends AlarmEvent {
  operation: "set" | "clear" | "msg";
  at: number;
}

export interface AlarmSink {
  readonly name: string;
  /**
   * Set by a sink that keeps agent state (the history file): its failures are state-write faults (logged once
   * per episode as such, shown by metal_state_write_failing), and its backlog is retried on every pass.
   */
  readonly stateTarget?: StateTarget;
  /** The file it writes, named in that log line. */
  readonly statePath?: string;
  deliver(record: AlarmRecord): Promise<void> | void;
  close?(): Promise<void> | void;
}
