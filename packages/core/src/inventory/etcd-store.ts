import type { Etcd3 } from "etcd3";
import type { ActiveAlarm } from "../alarms/alarm-manager.js";
import type { AlarmRecord } from "../alarms/sink.js";
import type { Logger } from "../plugin-api/services.js";
import {
  alarmKey,
  type HostRecord,
  type InventoryStore,
  StoreError,
  type StoreOp,
  type StoreSnapshot,
  type StoreTxn,
  type WriteGuard as StoreWriteGuard,
} from "./store.js";
import { checkOps, TxnBuffer } from "./txn-buffer.js";

/** What guards a write: the leader key must still have this create revision and lease (ha/leadership.ts). */
export interface WriteGuard {
  key: string;
  createRevision: string;
  lease: string;
  epoch: number;
}

/** A store error with a stable code: NOT_LEADER (no guard: this agent is standby), DEPOSED (the guard failed in etcd). */
export class StoreWriteError extends Error {
  constructor(
    readonly code: "NOT_LEADER" | "DEPOSED",
    message: string,
  ) {
    super(message);
  }
}

/** Keys of the inventory under the store prefix. */
export const storeKeys = (prefix: string) => ({
  hosts: `${prefix}/hosts/`,
  host: (name: string) => `${prefix}/hosts/${name}`,
  alarms: `${prefix}/alarms/`,
  alarm: (key: string) => `${prefix}/alarms/${key}`,
  history: `${prefix}/history/`,
});

/** A stored host: the record and the epoch of the leader that wrote it. */
export interface StoredHost {
  epoch: number;
  host: HostRecord;
}

/** Parse a stored host; undefined when the value is not a host record (quarantined by the caller). Never throws. */
export function parseStoredHost(key: string, prefix: string, text: string): StoredHost | undefined {
  try {
    const v = JSON.parse(text) as Partial<StoredHost>;
    const h = v.host as Partial<HostRecord> | undefined;
    if (!h || typeof h !== "object" || typeof h.hostname !== "string" || key !== storeKeys(prefix).host(h.hostname)) return undefined;
    if (typeof h.administrative !== "string" || typeof h.operational !== "string" || typeof h.availability !== "string") return undefined;
    return { epoch: typeof v.epoch === "number" ? v.epoch : 0, host: h as HostRecord };
  } catch {
    return undefined;
  }
}

/**
 * The inventory in etcd (issue 12): one key per host under `<prefix>/hosts/`, the value `{epoch, host}`. Every write is
 * one transaction guarded by the writer's leadership — it commits only while the leader key still has the writer's
 * create revision and lease — so a deposed agent's writes fail (code DEPOSED) and a standby's are refused (NOT_LEADER).
 * A write resolves only once etcd committed it (a quorum has it). Records that do not parse are skipped on load with
 * one log line each and left in place for an operator (quarantine).
 */
export class EtcdInventoryStore implements InventoryStore {
  readonly keys: ReturnType<typeof storeKeys>;
  /** Committed writes (the bench counts them). */
  writes = 0;
  private extraGuard: StoreWriteGuard | undefined;
  private historySeq = 0;

  constructor(
    private readonly etcd: Etcd3,
    readonly prefix: string,
    private readonly guard: () => WriteGuard | undefined,
    private readonly log?: Logger,
  ) {
    this.keys = storeKeys(prefix);
  }

  /** Hosts and active alarms (bad host records are logged and left in place). */
  async load(): Promise<StoreSnapshot> {
    const { hosts } = await this.loadWithRevision();
    const alarms: ActiveAlarm[] = [];
    for (const v of Object.values(await this.etcd.getAll().prefix(this.keys.alarms).strings())) {
      try {
        alarms.push(JSON.parse(v) as ActiveAlarm);
      } catch {
        // skipped like a bad host record
      }
    }
    return { hosts, alarms, quarantined: [] };
  }

  /** Every host and the store revision they were read at (a watch continues from revision + 1). */
  async loadWithRevision(): Promise<{ hosts: HostRecord[]; revision: string }> {
    const res = await this.etcd.getAll().prefix(this.keys.hosts).exec();
    const hosts: HostRecord[] = [];
    for (const kv of res.kvs) {
      const key = kv.key.toString("utf8");
      const s = parseStoredHost(key, this.prefix, kv.value.toString("utf8"));
      if (s) hosts.push(s.host);
      else this.log?.warn({ key }, "etcd store: record is not a host; left in place (quarantined)");
    }
    return { hosts: hosts.sort((a, b) => a.hostname.localeCompare(b.hostname)), revision: String(res.header.revision) };
  }

  private guarded(): WriteGuard {
    const g = this.guard();
    if (!g) throw new StoreWriteError("NOT_LEADER", "this agent is not the active controller: the store is read-only here");
    return g;
  }

  /** Every op in one etcd Txn guarded by the leader key (later ops on one key win: a Txn takes each key once). */
  async commit(ops: readonly StoreOp[]): Promise<void> {
    checkOps(ops);
    if (ops.length === 0) return;
    const g = this.guarded();
    if (this.extraGuard) {
      try {
        await this.extraGuard.check();
      } catch (err) {
        throw new StoreError("STORE_FENCED", `write refused by ${this.extraGuard.name}`, err);
      }
    }
    const last = new Map<string, string | null>();
    for (const o of ops) {
      if (o.op === "putHost") last.set(this.keys.host(o.host.hostname), JSON.stringify({ epoch: g.epoch, host: o.host } satisfies StoredHost));
      else if (o.op === "deleteHost") last.set(this.keys.host(o.hostname), null);
      else if (o.op === "putAlarm") last.set(this.keys.alarm(alarmKey(o.alarm)), JSON.stringify(o.alarm));
      else last.set(this.keys.alarm(o.key), null);
    }
    const writes = [...last].map(([k, v]) => (v === null ? this.etcd.delete().key(k) : this.etcd.put(k).value(v)));
    const res = await this.etcd
      .if(g.key, "Create", "==", g.createRevision)
      .and(g.key, "Lease", "==", g.lease)
      .then(...writes)
      .commit();
    if (!res.succeeded) throw new StoreWriteError("DEPOSED", `write refused: epoch ${g.epoch} no longer leads`);
    this.writes++;
  }

  async transact<T>(fn: (tx: StoreTxn) => T | Promise<T>): Promise<T> {
    const { hosts } = await this.loadWithRevision();
    const tx = new TxnBuffer(new Map(hosts.map((h) => [h.hostname, h])));
    const result = await fn(tx);
    await this.commit(tx.ops);
    return result;
  }

  save(host: HostRecord): Promise<void> {
    return this.commit([{ op: "putHost", host }]);
  }

  remove(hostname: string): Promise<void> {
    return this.commit([{ op: "deleteHost", hostname }]);
  }

  async appendHistory(records: readonly AlarmRecord[]): Promise<void> {
    for (const r of records) {
      this.historySeq++;
      await this.etcd.put(`${this.keys.history}${String(r.at).padStart(15, "0")}-${String(this.historySeq).padStart(9, "0")}`).value(JSON.stringify(r));
    }
  }

  async readHistory(opts: { limit?: number } = {}): Promise<AlarmRecord[]> {
    const all = await this.etcd.getAll().prefix(this.keys.history).sort("Key", "Ascend").strings();
    const out = Object.values(all).map((v) => JSON.parse(v) as AlarmRecord);
    return opts.limit !== undefined ? out.slice(-opts.limit) : out;
  }

  /** An engine-neutral guard checked in addition to the leader key. */
  setGuard(guard: StoreWriteGuard | undefined): void {
    this.extraGuard = guard;
  }

  async close(): Promise<void> {}

  /** Unguarded bulk write, only for `metal store migrate` into an empty prefix (no agent runs against it). */
  async importHosts(hosts: HostRecord[]): Promise<number> {
    const existing = await this.etcd.getAll().prefix(this.keys.hosts).count();
    if (existing > 0) throw new Error(`etcd prefix ${this.keys.hosts} already holds ${existing} hosts; migrate only into an empty store`);
    for (const host of hosts) await this.etcd.put(this.keys.host(host.hostname)).value(JSON.stringify({ epoch: 0, host } satisfies StoredHost));
    return hosts.length;
  }
}
