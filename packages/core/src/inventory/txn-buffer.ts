import type { ActiveAlarm } from "../alarms/alarm-manager.js";
import { activeAlarmSchema, checkHostRecord, firstIssue, hostnameSchema } from "./record-schema.js";
import { type HostRecord, StoreError, type StoreOp, type StoreTxn } from "./store.js";

/**
 * A transaction's buffered writes over a snapshot of the committed hosts: reads see the snapshot plus the
 * transaction's own writes; `ops` is what gets committed. Shared by every InventoryStore engine.
 */
export class TxnBuffer implements StoreTxn {
  readonly ops: StoreOp[] = [];
  private readonly overlay = new Map<string, HostRecord | null>();

  constructor(private readonly committed: ReadonlyMap<string, HostRecord>) {}

  getHost(hostname: string): HostRecord | undefined {
    const v = this.overlay.has(hostname) ? this.overlay.get(hostname) : this.committed.get(hostname);
    return v ? structuredClone(v) : undefined;
  }

  hostnames(): string[] {
    const names = new Set(this.committed.keys());
    for (const [k, v] of this.overlay) {
      if (v) names.add(k);
      else names.delete(k);
    }
    return [...names].sort();
  }

  putHost(host: HostRecord): void {
    const copy = structuredClone(host);
    this.overlay.set(host.hostname, copy);
    this.ops.push({ op: "putHost", host: copy });
  }

  deleteHost(hostname: string): void {
    this.overlay.set(hostname, null);
    this.ops.push({ op: "deleteHost", hostname });
  }

  putAlarm(alarm: ActiveAlarm): void {
    this.ops.push({ op: "putAlarm", alarm: { ...alarm } });
  }

  deleteAlarm(key: string): void {
    this.ops.push({ op: "deleteAlarm", key });
  }
}

/**
 * Check every record of a commit against the record schema before anything is written.
 * @throws StoreError STORE_INVALID naming the op and the first bad field.
 */
export function checkOps(ops: readonly StoreOp[]): void {
  for (const [i, o] of ops.entries()) {
    if (o.op === "putHost") {
      const r = checkHostRecord(o.host);
      if (!r.ok) throw new StoreError("STORE_INVALID", `op ${i} (host ${String(o.host?.hostname).slice(0, 64)}): ${r.reason}`);
    } else if (o.op === "putAlarm") {
      const r = activeAlarmSchema.safeParse(o.alarm);
      if (!r.success) throw new StoreError("STORE_INVALID", `op ${i} (alarm): ${firstIssue(r.error)}`);
    } else if (o.op === "deleteHost") {
      if (!hostnameSchema.safeParse(o.hostname).success) throw new StoreError("STORE_INVALID", `op ${i}: not a hostname`);
    } else if (o.op === "deleteAlarm") {
      if (typeof o.key !== "string" || o.key.length > 512) throw new StoreError("STORE_INVALID", `op ${i}: an alarm key`);
    } else throw new StoreError("STORE_INVALID", `op ${i}: unknown operation`);
  }
}
