import { mkdirSync } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { basename, join } from "node:path";
import type { ActiveAlarm } from "../alarms/alarm-manager.js";
import type { AlarmRecord } from "../alarms/sink.js";
import type { Logger } from "../plugin-api/services.js";
import { parseBoundedJson } from "../validation/json-text.js";
import { activeAlarmSchema, checkHostRecord, firstIssue } from "./record-schema.js";
import {
  alarmKey,
  type HostRecord,
  type InventoryStore,
  isStoreError,
  type QuarantinedRecord,
  StoreError,
  type StoreOp,
  type StoreSnapshot,
  type StoreTxn,
  type WriteGuard,
} from "./store.js";
import { checkOps, TxnBuffer } from "./txn-buffer.js";

const SUFFIX = ".host.json";
const TEMP = ".tmp";
const JOURNAL = "commit.txn";
/** A stored host record is far smaller than this; anything larger is not ours. */
const MAX_RECORD_BYTES = 512 * 1024;
const MAX_RECORD_DEPTH = 16;
const MAX_ALARMS_BYTES = 16 * 1024 * 1024;

export interface FileInventoryStoreOptions {
  /** The agent's state dir: hosts in `hosts/`, `alarms.json`, `alarm-history.jsonl`, `quarantine/`. */
  stateDir: string;
  /** Default `<stateDir>/hosts`. */
  hostsDir?: string;
  /** Default `<stateDir>/alarm-history.jsonl`. */
  historyFile?: string;
  /** One warn line per quarantined record. */
  log?: Logger;
  /** false skips every fsync: NOT durable; only the durability bench uses it as its baseline. */
  fsync?: boolean;
}

/** The journal of a multi-record commit: the final value of every key it touches. */
interface Journal {
  hosts: Record<string, HostRecord | null>;
  alarms?: ActiveAlarm[];
}

interface Pending {
  ops: readonly StoreOp[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The embedded InventoryStore: one JSON file per host under `<stateDir>/hosts`, the active alarm table in
 * `<stateDir>/alarms.json`, the alarm history appended to `<stateDir>/alarm-history.jsonl`.
 *
 * Durability: every file is written to a temp name, fsync'd, renamed over the old one, and the directory is
 * fsync'd before a commit resolves. A commit touching more than one record first writes its journal
 * (`hosts/commit.txn`, itself temp + fsync + rename), then applies it; a journal found at load or before the
 * next commit is applied again, so a kill -9 anywhere leaves all of a commit or none of it. Commits that
 * arrive while one is being written are written together (group commit).
 *
 * Faults: ENOSPC/EDQUOT reject with STORE_NO_SPACE, other I/O errors with STORE_IO; temp files of the failed
 * commit are removed and the store stays usable. A journal whose apply failed is kept and applied before the
 * next commit, so nothing committed is lost while the disk is full.
 */
export class FileInventoryStore implements InventoryStore {
  readonly stateDir: string;
  readonly hostsDir: string;
  readonly alarmsFile: string;
  readonly historyFile: string;
  readonly quarantineDir: string;
  private readonly log: Logger | undefined;
  private readonly durable: boolean;
  private guard: WriteGuard | undefined;
  private closed = false;
  /** Committed hosts and alarms, once read (load, or the first transaction). */
  private hosts: Map<string, HostRecord> | undefined;
  private alarms: Map<string, ActiveAlarm> | undefined;
  private readonly pending: Pending[] = [];
  private writing: Promise<void> | undefined;
  /** A journal made durable whose apply failed: applied before anything else is written. */
  private unapplied: Journal | undefined;
  private txnLock: Promise<unknown> = Promise.resolve();
  /** A transaction function is running: commits queue up but are not written yet. */
  private holding = false;
  private historyChain: Promise<unknown> = Promise.resolve();
  private historyFd: FileHandle | undefined;

  constructor(o: FileInventoryStoreOptions) {
    this.stateDir = o.stateDir;
    this.hostsDir = o.hostsDir ?? join(o.stateDir, "hosts");
    this.alarmsFile = join(o.stateDir, "alarms.json");
    this.historyFile = o.historyFile ?? join(o.stateDir, "alarm-history.jsonl");
    this.quarantineDir = join(o.stateDir, "quarantine");
    this.log = o.log;
    this.durable = o.fsync !== false;
    mkdirSync(this.hostsDir, { recursive: true, mode: 0o700 });
  }

  async load(): Promise<StoreSnapshot> {
    this.assertOpen();
    const quarantined: QuarantinedRecord[] = [];
    await this.writing;
    await this.replayJournal(quarantined);
    const hosts = new Map<string, HostRecord>();
    for (const name of await readdir(this.hostsDir)) {
      const path = join(this.hostsDir, name);
      if (name.endsWith(TEMP)) {
        // A temp file is never acknowledged: its rename did not happen.
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      const bytes = await readFile(path);
      const reason = hostFileProblem(name, bytes);
      if (typeof reason === "string") quarantined.push(await this.quarantine(path, reason));
      else hosts.set(reason.hostname, reason);
    }
    const alarms = await this.readAlarms(quarantined);
    this.hosts = hosts;
    this.alarms = alarms;
    return {
      hosts: [...hosts.values()].map((h) => structuredClone(h)).sort((a, b) => a.hostname.localeCompare(b.hostname)),
      alarms: [...alarms.values()].map((a) => ({ ...a })),
      quarantined,
    };
  }

  commit(ops: readonly StoreOp[]): Promise<void> {
    try {
      this.assertOpen();
      checkOps(ops);
    } catch (err) {
      return Promise.reject(err);
    }
    if (ops.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ops, resolve, reject });
      if (!this.writing && !this.holding) this.writing = this.drain();
    });
  }

  /**
   * Transactions are serialised with each other and with commits: fn sees everything committed before it,
   * commits requested while fn runs wait, and fn's writes are the next batch written.
   */
  transact<T>(fn: (tx: StoreTxn) => T | Promise<T>): Promise<T> {
    const run = this.txnLock.then(async () => {
      this.assertOpen();
      let ops: StoreOp[];
      let result: T;
      this.holding = true;
      try {
        while (this.writing) await this.writing;
        await this.ensureCache();
        const tx = new TxnBuffer(this.hosts as Map<string, HostRecord>);
        result = await fn(tx);
        checkOps(tx.ops);
        ops = tx.ops;
      } finally {
        this.holding = false;
      }
      const committed = ops.length ? new Promise<void>((resolve, reject) => this.pending.unshift({ ops, resolve, reject })) : Promise.resolve();
      if (this.pending.length && !this.writing) this.writing = this.drain();
      await committed;
      return result;
    });
    this.txnLock = run.catch(() => undefined);
    return run;
  }

  save(host: HostRecord): Promise<void> {
    return this.commit([{ op: "putHost", host }]);
  }

  remove(hostname: string): Promise<void> {
    return this.commit([{ op: "deleteHost", hostname }]);
  }

  appendHistory(records: readonly AlarmRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new StoreError("STORE_CLOSED", "the store is closed"));
    if (records.length === 0) return Promise.resolve();
    const text = records.map((r) => `${JSON.stringify(r)}\n`).join("");
    const run = this.historyChain.then(async () => {
      this.historyFd ??= await open(this.historyFile, "a", 0o640).catch((err: unknown) => {
        throw storeErrorOf(err, this.historyFile);
      });
      const fd = this.historyFd;
      const size = (await fd.stat()).size;
      try {
        await fd.write(text);
        if (this.durable) await fd.datasync();
      } catch (err) {
        // Never leave a torn line for the next record to be glued onto.
        await fd.truncate(size).catch(() => undefined);
        throw storeErrorOf(err, this.historyFile);
      }
    });
    this.historyChain = run.catch(() => undefined);
    return run;
  }

  async readHistory(opts: { limit?: number } = {}): Promise<AlarmRecord[]> {
    let text: string;
    try {
      text = await readFile(this.historyFile, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw storeErrorOf(err, this.historyFile);
    }
    const out: AlarmRecord[] = [];
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as AlarmRecord);
      } catch {
        // a torn record (kill during a write before this store truncated such tails)
      }
    }
    return opts.limit !== undefined ? out.slice(-opts.limit) : out;
  }

  setGuard(guard: WriteGuard | undefined): void {
    this.guard = guard;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writing;
    await this.historyChain;
    this.closed = true;
    await this.historyFd?.close().catch(() => undefined);
    this.historyFd = undefined;
  }

  /** Write everything pending; one batch per round (group commit). */
  private async drain(): Promise<void> {
    while (this.pending.length && !this.holding) {
      const batch = this.pending.splice(0, this.pending.length);
      try {
        await this.writeBatch(batch.flatMap((p) => p.ops));
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.writing = undefined;
  }

  private async writeBatch(ops: StoreOp[]): Promise<void> {
    if (this.guard) {
      try {
        await this.guard.check();
      } catch (err) {
        throw new StoreError("STORE_FENCED", `write refused by ${this.guard.name}: ${(err as Error)?.message ?? String(err)}`, err);
      }
    }
    if (this.unapplied) {
      await this.apply(this.unapplied);
      this.unapplied = undefined;
    }
    const journal = await this.journalOf(ops);
    const keys = Object.keys(journal.hosts).length + (journal.alarms ? 1 : 0);
    if (keys > 1) {
      await this.writeFile(join(this.hostsDir, JOURNAL), JSON.stringify(journal));
      await this.syncDir(this.hostsDir);
      // From here the commit is durable: a failed apply is retried, never reported as a failed commit.
      this.remember(journal);
      try {
        await this.apply(journal);
      } catch (err) {
        this.unapplied = journal;
        this.log?.warn({ err: (err as Error).message }, "store: journal applied later (commit is durable)");
      }
      return;
    }
    await this.apply(journal, false);
    this.remember(journal);
  }

  /** The final value of every key the ops touch (later ops win). */
  private async journalOf(ops: StoreOp[]): Promise<Journal> {
    const journal: Journal = { hosts: {} };
    let alarms: Map<string, ActiveAlarm> | undefined;
    for (const o of ops) {
      if (o.op === "putHost") journal.hosts[o.host.hostname] = structuredClone(o.host);
      else if (o.op === "deleteHost") journal.hosts[o.hostname] = null;
      else {
        if (!alarms) {
          await this.ensureCache();
          alarms = new Map(this.alarms);
        }
        if (o.op === "putAlarm") alarms.set(alarmKey(o.alarm), { ...o.alarm });
        else alarms.delete(o.key);
      }
    }
    if (alarms) journal.alarms = [...alarms.values()];
    return journal;
  }

  private remember(j: Journal): void {
    if (this.hosts) {
      for (const [name, rec] of Object.entries(j.hosts)) {
        if (rec) this.hosts.set(name, rec);
        else this.hosts.delete(name);
      }
    }
    if (j.alarms) this.alarms = new Map(j.alarms.map((a) => [alarmKey(a), a]));
  }

  /** Make the files say what the journal says; removes the journal file when `fromJournal`. */
  private async apply(j: Journal, fromJournal = true): Promise<void> {
    const puts = Object.entries(j.hosts);
    await Promise.all(
      puts.map(([name, rec]) =>
        rec ? this.writeFile(join(this.hostsDir, `${name}${SUFFIX}`), JSON.stringify(rec)) : removeFile(join(this.hostsDir, `${name}${SUFFIX}`)),
      ),
    );
    if (j.alarms) {
      await this.writeFile(this.alarmsFile, JSON.stringify(j.alarms));
      await this.syncDir(this.stateDir);
    }
    if (fromJournal) await removeFile(join(this.hostsDir, JOURNAL));
    if (puts.length || fromJournal) await this.syncDir(this.hostsDir);
  }

  private async replayJournal(quarantined: QuarantinedRecord[]): Promise<void> {
    const path = join(this.hostsDir, JOURNAL);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw storeErrorOf(err, path);
    }
    const parsed = parseBoundedJson(bytes, { maxBytes: 256 * 1024 * 1024, maxDepth: MAX_RECORD_DEPTH + 3 });
    const j = parsed.ok ? (parsed.value as Journal) : undefined;
    if (!j || typeof j.hosts !== "object" || j.hosts === null) {
      quarantined.push(await this.quarantine(path, parsed.ok ? "not a commit journal" : parsed.reason));
      return;
    }
    // Records in a journal passed the schema when committed; a record that does not now is quarantined by
    // the host scan below after it is written back.
    try {
      await this.apply(j);
    } catch (err) {
      throw storeErrorOf(err, path);
    }
    this.unapplied = undefined;
  }

  private async readAlarms(quarantined: QuarantinedRecord[]): Promise<Map<string, ActiveAlarm>> {
    const table = new Map<string, ActiveAlarm>();
    let bytes: Buffer;
    try {
      bytes = await readFile(this.alarmsFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return table;
      throw storeErrorOf(err, this.alarmsFile);
    }
    const parsed = parseBoundedJson(bytes, { maxBytes: MAX_ALARMS_BYTES, maxDepth: 3 });
    if (!parsed.ok || !Array.isArray(parsed.value)) {
      quarantined.push(await this.quarantine(this.alarmsFile, parsed.ok ? "not a JSON array of alarms" : parsed.reason));
      return table;
    }
    const bad: string[] = [];
    for (const [i, a] of parsed.value.entries()) {
      const r = activeAlarmSchema.safeParse(a);
      if (r.success) table.set(alarmKey(r.data), r.data as ActiveAlarm);
      else bad.push(`[${i}] ${firstIssue(r.error)}`);
    }
    if (bad.length) {
      // Keep a copy of the whole file for an operator, and go on with the rows that are good.
      quarantined.push(await this.quarantine(this.alarmsFile, `${bad.length} bad alarm row(s): ${bad[0]}`, true));
      await this.writeFile(this.alarmsFile, JSON.stringify([...table.values()]));
      await this.syncDir(this.stateDir);
    }
    return table;
  }

  /** Move (or copy) a bad record aside and say so once. */
  private async quarantine(path: string, reason: string, copy = false): Promise<QuarantinedRecord> {
    await mkdir(this.quarantineDir, { recursive: true, mode: 0o700 });
    const movedTo = join(this.quarantineDir, `${basename(path)}.${Date.now()}`);
    try {
      if (copy) await this.writeFile(movedTo, await readFile(path));
      else await rename(path, movedTo);
      await this.syncDir(this.quarantineDir);
    } catch (err) {
      throw storeErrorOf(err, path);
    }
    this.log?.warn({ file: path, movedTo, reason }, "stored record quarantined");
    return { source: path, movedTo, reason };
  }

  private async ensureCache(): Promise<void> {
    if (!this.hosts || !this.alarms) await this.load();
  }

  /** temp + fsync + rename; the temp is removed when anything fails. */
  private async writeFile(path: string, data: string | Buffer): Promise<void> {
    const temp = `${path}.${process.pid}${TEMP}`;
    let fd: FileHandle | undefined;
    try {
      fd = await open(temp, "w", 0o600);
      await fd.writeFile(data);
      if (this.durable) await fd.sync();
      await fd.close();
      fd = undefined;
      await rename(temp, path);
    } catch (err) {
      await fd?.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw storeErrorOf(err, path);
    }
  }

  /** A rename is durable only once its directory entry is. */
  private async syncDir(dir: string): Promise<void> {
    if (!this.durable) return;
    let fd: FileHandle | undefined;
    try {
      fd = await open(dir, "r");
      await fd.sync();
    } catch (err) {
      throw storeErrorOf(err, dir);
    } finally {
      await fd?.close().catch(() => undefined);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("STORE_CLOSED", "the store is closed");
  }
}

/** What is wrong with a stored host file, or the host it holds. */
function hostFileProblem(name: string, bytes: Buffer): string | HostRecord {
  if (bytes.length === 0) return "empty file";
  const parsed = parseBoundedJson(bytes, { maxBytes: MAX_RECORD_BYTES, maxDepth: MAX_RECORD_DEPTH });
  if (!parsed.ok) return parsed.reason;
  const checked = checkHostRecord(parsed.value);
  if (!checked.ok) return checked.reason;
  if (`${checked.host.hostname}${SUFFIX}` !== name) return `file name does not match the host it holds ('${checked.host.hostname}')`;
  return checked.host;
}

async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw storeErrorOf(err, path);
  }
}

/** An errno as a StoreError: a full medium is STORE_NO_SPACE, every other failure STORE_IO. */
export function storeErrorOf(err: unknown, path: string): StoreError {
  if (isStoreError(err)) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") return new StoreError("STORE_NO_SPACE", `${path}: no space left on the device`, err);
  return new StoreError("STORE_IO", `${path}: ${code ?? (err as Error)?.message ?? String(err)}`, err);
}

export { MemoryInventoryStore } from "./memory-store.js";
