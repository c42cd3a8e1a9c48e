import { randomBytes } from "node:crypto";
import type { Etcd3 } from "etcd3";
import type { ActiveAlarm } from "../alarms/alarm-manager.js";
import type { AlarmRecord } from "../alarms/sink.js";
import type { Logger } from "../plugin-api/services.js";
import { activeAlarmSchema, checkHostRecord, firstIssue } from "./record-schema.js";
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

/** Keys of the inventory under the store prefix. */
export const storeKeys = (prefix: string) => ({
  hosts: `${prefix}/hosts/`,
  host: (name: string) => `${prefix}/hosts/${name}`,
  alarms: `${prefix}/alarms/`,
  alarm: (key: string) => `${prefix}/alarms/${encodeURIComponent(key)}`,
  history: `${prefix}/history/`,
  quarantine: `${prefix}/quarantine/`,
});

/** A stored host: the record and the epoch of the leader that wrote it (0: written without a leader, e.g. migrate). */
export interface StoredHost {
  epoch: number;
  host: HostRecord;
}

/**
 * Parse and check a stored host value under `key`: `{epoch, host}` as this store writes it, or a bare record (a foreign
 * writer). Never throws; the reason names the first bad field.
 */
export function parseStoredHost(key: string, prefix: string, bytes: Buffer | string): { ok: true; stored: StoredHost } | { ok: false; reason: string } {
  const text = typeof bytes === "string" ? bytes : bytes.toString("utf8");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not valid JSON" };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { ok: false, reason: "not a JSON object" };
  const w = v as { epoch?: unknown; host?: unknown };
  const wrapped = typeof w.epoch === "number" && typeof w.host === "object";
  const r = checkHostRecord(wrapped ? w.host : v);
  if (!r.ok) return { ok: false, reason: r.reason };
  if (key !== storeKeys(prefix).host(r.host.hostname)) return { ok: false, reason: `hostname '${r.host.hostname}' does not match the key ${key}` };
  return { ok: true, stored: { epoch: wrapped ? (w.epoch as number) : 0, host: r.host } };
}

const io = (what: string, err: unknown) => new StoreError("STORE_IO", `etcd ${what}: ${(err as Error)?.message ?? String(err)}`, err);

/**
 * The inventory in etcd (issue 12) on the InventoryStore contract (inventory/store.ts): one key per host under
 * `<prefix>/hosts/` holding `{epoch, host}`, one per active alarm under `<prefix>/alarms/`, the alarm history under
 * `<prefix>/history/` in commit order. A commit is one etcd Txn: it resolves once etcd committed it (a quorum has it).
 * With a guard set (the controller pair sets one on election and a refusing one on standby), the guard is asked first
 * and its `fence` — the leader key and its create revision — is compared inside the same Txn, so a deposed leader's
 * commit fails STORE_FENCED even when its own clock still says it leads. Commits and transactions of one store object
 * apply in call order. Bad stored records are moved to `<prefix>/quarantine/` on load with one log line each.
 * Errors: StoreError STORE_INVALID / STORE_FENCED / STORE_IO / STORE_CLOSED.
 */
export class EtcdInventoryStore implements InventoryStore {
  readonly keys: ReturnType<typeof storeKeys>;
  /** Committed commits (the bench counts them). */
  writes = 0;
  private guard: WriteGuard | undefined;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly etcd: Etcd3,
    readonly prefix: string,
    private readonly log?: Logger,
  ) {
    this.keys = storeKeys(prefix);
  }

  private open(): void {
    if (this.closed) throw new StoreError("STORE_CLOSED", "the etcd store is closed");
  }

  /** Run `fn` after every earlier commit/transaction of this object settled (call order). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async load(): Promise<StoreSnapshot> {
    this.open();
    const quarantined: QuarantinedRecord[] = [];
    let hostsRes: Awaited<ReturnType<ReturnType<Etcd3["getAll"]>["exec"]>>;
    let alarmsRes: typeof hostsRes;
    try {
      [hostsRes, alarmsRes] = await Promise.all([this.etcd.getAll().prefix(this.keys.hosts).exec(), this.etcd.getAll().prefix(this.keys.alarms).exec()]);
    } catch (err) {
      throw io("load", err);
    }
    const hosts: HostRecord[] = [];
    for (const kv of hostsRes.kvs) {
      const key = kv.key.toString("utf8");
      const p = parseStoredHost(key, this.prefix, kv.value);
      if (p.ok) hosts.push(p.stored.host);
      else quarantined.push(await this.quarantine(key, kv.value, String(kv.mod_revision), p.reason));
    }
    const alarms: ActiveAlarm[] = [];
    for (const kv of alarmsRes.kvs) {
      const key = kv.key.toString("utf8");
      let reason: string | undefined;
      try {
        const r = activeAlarmSchema.safeParse(JSON.parse(kv.value.toString("utf8")));
        if (r.success) alarms.push(r.data as ActiveAlarm);
        else reason = firstIssue(r.error);
      } catch {
        reason = "not valid JSON";
      }
      if (reason) quarantined.push(await this.quarantine(key, kv.value, String(kv.mod_revision), reason));
    }
    return { hosts: hosts.sort((a, b) => a.hostname.localeCompare(b.hostname)), alarms, quarantined };
  }

  /** Move a bad record aside (only if nobody rewrote it since it was read), with one log line. */
  private async quarantine(key: string, value: Buffer, modRevision: string, reason: string): Promise<QuarantinedRecord> {
    const movedTo = `${this.keys.quarantine}${key.slice(this.prefix.length + 1)}@${modRevision}`;
    try {
      await this.etcd
        .if(key, "Mod", "==", modRevision)
        .then(this.etcd.put(movedTo).value(JSON.stringify({ from: key, reason, raw: value.toString("base64") })), this.etcd.delete().key(key))
        .commit();
    } catch (err) {
      throw io("quarantine", err);
    }
    this.log?.warn({ key, movedTo, reason }, "etcd store: bad record quarantined");
    return { source: key, movedTo, reason };
  }

  /** Hosts and the revision they were read at (a watch continues from revision + 1); bad records are skipped here. */
  async loadWithRevision(): Promise<{ hosts: HostRecord[]; revision: string }> {
    this.open();
    const res = await this.etcd
      .getAll()
      .prefix(this.keys.hosts)
      .exec()
      .catch((err: unknown) => {
        throw io("load", err);
      });
    const hosts: HostRecord[] = [];
    for (const kv of res.kvs) {
      const p = parseStoredHost(kv.key.toString("utf8"), this.prefix, kv.value);
      if (p.ok) hosts.push(p.stored.host);
    }
    return { hosts: hosts.sort((a, b) => a.hostname.localeCompare(b.hostname)), revision: String(res.header.revision) };
  }

  commit(ops: readonly StoreOp[]): Promise<void> {
    return this.serial(() => this.commitNow(ops));
  }

  private async commitNow(ops: readonly StoreOp[]): Promise<void> {
    this.open();
    checkOps(ops);
    if (ops.length === 0) return;
    const g = this.guard;
    if (g) {
      try {
        await g.check();
      } catch (err) {
        throw new StoreError("STORE_FENCED", `write refused by ${g.name}`, err);
      }
    }
    // The leader's epoch (its key's create revision) is stamped on every host it writes.
    const epoch = g?.fence?.createRevision ?? 0;
    const last = new Map<string, string | null>();
    for (const o of ops) {
      if (o.op === "putHost") last.set(this.keys.host(o.host.hostname), JSON.stringify({ epoch, host: o.host } satisfies StoredHost));
      else if (o.op === "deleteHost") last.set(this.keys.host(o.hostname), null);
      else if (o.op === "putAlarm") last.set(this.keys.alarm(alarmKey(o.alarm)), JSON.stringify(o.alarm));
      else last.set(this.keys.alarm(o.key), null);
    }
    const writes = [...last].map(([k, v]) => (v === null ? this.etcd.delete().key(k) : this.etcd.put(k).value(v)));
    const fence = g?.fence;
    let tx = fence ? this.etcd.if(fence.key, "Create", "==", fence.createRevision ?? 0) : this.etcd.if(this.keys.hosts, "Version", ">", -1);
    if (fence?.value !== undefined) tx = tx.and(fence.key, "Value", "==", fence.value);
    let res: Awaited<ReturnType<typeof tx.commit>>;
    try {
      res = await tx.then(...writes).commit();
    } catch (err) {
      throw io("commit", err);
    }
    if (!res.succeeded) throw new StoreError("STORE_FENCED", `write refused: ${g?.name ?? "fence"} no longer holds in etcd`);
    this.writes++;
  }

  transact<T>(fn: (tx: StoreTxn) => T | Promise<T>): Promise<T> {
    return this.serial(async () => {
      const { hosts } = await this.loadWithRevision();
      const tx = new TxnBuffer(new Map(hosts.map((h) => [h.hostname, h])));
      const result = await fn(tx);
      await this.commitNow(tx.ops);
      return result;
    });
  }

  save(host: HostRecord): Promise<void> {
    return this.commit([{ op: "putHost", host }]);
  }

  remove(hostname: string): Promise<void> {
    return this.commit([{ op: "deleteHost", hostname }]);
  }

  /** Each record its own key, read back in creation order (etcd's create revision). */
  appendHistory(records: readonly AlarmRecord[]): Promise<void> {
    return this.serial(async () => {
      this.open();
      for (const r of records) {
        const key = `${this.keys.history}${String(r.at).padStart(15, "0")}-${randomBytes(6).toString("hex")}`;
        try {
          await this.etcd.put(key).value(JSON.stringify(r));
        } catch (err) {
          throw io("history append", err);
        }
      }
    });
  }

  async readHistory(opts: { limit?: number } = {}): Promise<AlarmRecord[]> {
    this.open();
    let res: Awaited<ReturnType<ReturnType<Etcd3["getAll"]>["exec"]>>;
    try {
      res = await this.etcd.getAll().prefix(this.keys.history).sort("Create", "Ascend").exec();
    } catch (err) {
      throw io("history read", err);
    }
    const out: AlarmRecord[] = [];
    for (const kv of res.kvs) {
      try {
        out.push(JSON.parse(kv.value.toString("utf8")) as AlarmRecord);
      } catch {
        // a torn record is skipped
      }
    }
    return opts.limit !== undefined ? out.slice(-opts.limit) : out;
  }

  setGuard(guard: WriteGuard | undefined): void {
    this.guard = guard;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Unguarded bulk write, only for `metal store migrate` into an empty prefix (no agent runs against it). */
  async importSnapshot(snapshot: { hosts: HostRecord[]; alarms: ActiveAlarm[] }, history: AlarmRecord[] = []): Promise<number> {
    this.open();
    const existing = await this.etcd.getAll().prefix(this.keys.hosts).count();
    if (existing > 0) throw new Error(`etcd prefix ${this.keys.hosts} already holds ${existing} hosts; migrate only into an empty store`);
    await this.commit([
      ...snapshot.hosts.map((host) => ({ op: "putHost" as const, host })),
      ...snapshot.alarms.map((alarm) => ({ op: "putAlarm" as const, alarm })),
    ]);
    await this.appendHistory(history);
    return snapshot.hosts.length;
  }
}
