import type { ActiveAlarm } from "../alarms/alarm-manager.js";
import type { AlarmRecord, AlarmSink } from "../alarms/sink.js";
import { alarmKey, type InventoryStore } from "../inventory/store.js";

/**
 * The controller pair's alarms in the store (issue 12): the active agent writes every raise and clear into the
 * store's active-alarm table (one `putAlarm` / `deleteAlarm` commit, under its leadership guard) and appends every
 * record (set, clear, customer log) to the store's alarm history, so the next active starts from the same alarm table
 * and the history is one log across failovers. A standby's own alarm table is not the cluster's: its records are not
 * written (`acting()` false). A failed write throws, and the alarm manager retries it at its next audit.
 */
export class StoreAlarmSink implements AlarmSink {
  readonly name = "store";

  constructor(
    private readonly store: InventoryStore,
    private readonly acting: () => boolean,
    /** The manager's current entry for an alarm (its raisedAt survives a severity change). */
    private readonly current: (r: AlarmRecord) => ActiveAlarm | undefined,
  ) {}

  async deliver(record: AlarmRecord): Promise<void> {
    if (!this.acting()) return;
    if (record.operation === "set") {
      const { operation: _, at, ...event } = record;
      const alarm = this.current(record) ?? { ...event, raisedAt: at };
      await this.store.commit([{ op: "putAlarm", alarm }]);
    } else if (record.operation === "clear") {
      await this.store.commit([{ op: "deleteAlarm", key: alarmKey(record) }]);
    }
    await this.store.appendHistory([record]);
  }
}
