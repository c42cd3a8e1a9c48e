import type { ActiveAlarm } from "../alarms/alarm-manager.js";
import type { AlarmRecord } from "../alarms/sink.js";
import { parseBoundedJson } from "../validation/json-text.js";
import { checkHostRecord } from "./record-schema.js";
import {
  alarmKey,
  type HostRecord,
  type InventoryStore,
  type QuarantinedRecord,
  StoreError,
  type StoreOp,
  type StoreSnapshot,
  type StoreTxn,
  type WriteGuard,
} from "./store.js";
import { checkOps, TxnBuffer } from "./txn-buffer.js";

/**
 * An in-memory InventoryStore for tests and benches: the same contract as the file and etcd stores (it passes
 * the store conformance suite), with "durable" meaning "in this object". `plantRaw` stores raw bytes as a
 * host's record the way a corrupted disk or a foreign writer would, for quarantine tests.
 */
export class MemoryInventoryStore implements InventoryStore {
  readonly records = new Map<string, HostRecord>();
  readonly alarms = new Map<string, ActiveAlarm>();
  readonly history: AlarmRecord[] = [];
  readonly quarantine = new Map<string, Uint8Array>();
  /** Host puts committed so far. */
  saves = 0;
  /** Set to make the next commits fail with this code (fault injection). */
  failWith: "STORE_NO_SPACE" | "STORE_IO" | undefined;
  private readonly raw = new Map<string, Uint8Array>();
  private guard: WriteGuard | undefined;
  private closed = false;
  private chain: Promise<unknown> = Promise.resolve();

  plantRaw(hostname: string, bytes: Uint8Array): void {
    this.records.delete(hostname);
    this.raw.set(hostname, bytes);
  }

  async load(): Promise<StoreSnapshot> {
    this.assertOpen();
    await this.chain;
    const quarantined: QuarantinedRecord[] = [];
    for (const [name, bytes] of this.raw) {
      this.raw.delete(name);
      const parsed = parseBoundedJson(bytes, { maxBytes: 512 * 1024, maxDepth: 16 });
      const checked = parsed.ok ? checkHostRecord(parsed.value) : { ok: false as const, reason: parsed.reason };
      const reason = !checked.ok
        ? checked.reason
        : checked.host.hostname !== name
          ? `key does not match the host it holds ('${checked.host.hostname}')`
          : undefined;
      if (reason === undefined && checked.ok) {
        this.records.set(name, checked.host);
        continue;
      }
      const movedTo = `quarantine/${name}`;
      this.quarantine.set(name, bytes);
      quarantined.push({ source: `hosts/${name}`, movedTo, reason: reason ?? "invalid" });
    }
    return {
      hosts: [...this.records.values()].map((r) => structuredClone(r)).sort((a, b) => a.hostname.localeCompare(b.hostname)),
      alarms: [...this.alarms.values()].map((a) => ({ ...a })),
      quarantined,
    };
  }

  commit(ops: readonly StoreOp[]): Promise<void> {
    const run = this.chain.then(() => this.apply(ops));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** fn and the commit of its writes run as one link of the chain: nothing commits in between. */
  transact<T>(fn: (tx: StoreTxn) => T | Promise<T>): Promise<T> {
    const run = this.chain.then(async () => {
      this.assertOpen();
      const tx = new TxnBuffer(this.records);
      const result = await fn(tx);
      await this.apply(tx.ops);
      return result;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async apply(ops: readonly StoreOp[]): Promise<void> {
    this.assertOpen();
    checkOps(ops);
    if (ops.length === 0) return;
    if (this.guard) {
      try {
        await this.guard.check();
      } catch (err) {
        throw new StoreError("STORE_FENCED", `write refused by ${this.guard.name}: ${(err as Error)?.message ?? String(err)}`, err);
      }
    }
    if (this.failWith) throw new StoreError(this.failWith, "injected fault");
    for (const o of ops) {
      if (o.op === "putHost") {
        this.saves++;
        this.raw.delete(o.host.hostname);
        this.records.set(o.host.hostname, structuredClone(o.host));
      } else if (o.op === "deleteHost") {
        this.raw.delete(o.hostname);
        this.records.delete(o.hostname);
      } else if (o.op === "putAlarm") this.alarms.set(alarmKey(o.alarm), { ...o.alarm });
      else this.alarms.delete(o.key);
    }
  }

  save(host: HostRecord): Promise<void> {
    return this.commit([{ op: "putHost", host }]);
  }

  remove(hostname: string): Promise<void> {
    return this.commit([{ op: "deleteHost", hostname }]);
  }

  async appendHistory(records: readonly AlarmRecord[]): Promise<void> {
    this.assertOpen();
    if (this.failWith) throw new StoreError(this.failWith, "injected fault");
    this.history.push(...records.map((r) => ({ ...r })));
  }

  async readHistory(opts: { limit?: number } = {}): Promise<AlarmRecord[]> {
    return opts.limit !== undefined ? this.history.slice(-opts.limit) : [...this.history];
  }

  setGuard(guard: WriteGuard | undefined): void {
    this.guard = guard;
  }

  async close(): Promise<void> {
    await this.chain;
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("STORE_CLOSED", "the store is closed");
  }
}
