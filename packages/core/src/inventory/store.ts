import type { ActiveAlarm } from "../alarms/alarm-manager.js";
import type { AlarmRecord } from "../alarms/sink.js";

/**
 * A host as maintenance keeps it. Field names follow the sysinv JSON keys of the reference
 * (hostname, personality, subfunctions, administrative/operational/availability, task, ...).
 * `action` is the admin action running now and `queued` the operator actions waiting behind it
 * (adminActionChange, reference §2.1/§2.2): both are durable, so a restarted agent resumes them after the
 * add handler has recovered the host (reference §2.3, §2.18).
 */
export interface HostRecord {
  hostname: string;
  personality: "controller" | "worker" | "storage";
  subfunctions: string[];
  mgmtIp?: string;
  mgmtMac?: string;
  clusterHostIp?: string;
  pxebootIp?: string;
  administrative: "locked" | "unlocked";
  operational: "enabled" | "disabled";
  availability: string;
  subfunctionOper?: "enabled" | "disabled";
  subfunctionAvail?: string;
  action: string;
  /** Operator actions accepted (202 queued) while `action` runs; started in order when it ends. */
  queued?: string[];
  task: string;
  uptime: number;
  degradeMask: number;
  /** secretRef: the 0600 file with the password (never the password itself); port: a non-standard BMC port. */
  bmc?: { type: string; address: string; username: string; port?: number; secretRef?: string; learned?: string };
  autoRecovery?: Record<string, { count: number; disabled: boolean }>;
  /** Free-form maintenance info persisted with the host (mtce_info). */
  mtceInfo?: Record<string, unknown>;
}

/** The identity of an active alarm: `${id}|${hostname}|${entity ?? ""}` (one row of the alarm table). */
export function alarmKey(a: { id: string; hostname: string; entity?: string | undefined }): string {
  return `${a.id}|${a.hostname}|${a.entity ?? ""}`;
}

/** One write inside a commit. Hosts are keyed by hostname, active alarms by `alarmKey`. */
export type StoreOp =
  | { op: "putHost"; host: HostRecord }
  | { op: "deleteHost"; hostname: string }
  | { op: "putAlarm"; alarm: ActiveAlarm }
  | { op: "deleteAlarm"; key: string };

/** A stored record that failed the record schema on load and was moved aside (never loaded, never lost). */
export interface QuarantinedRecord {
  /** What the record was stored as: a file path (file store) or a key (etcd). */
  readonly source: string;
  /** Where it went: `<stateDir>/quarantine/<name>` or the quarantine key. */
  readonly movedTo: string;
  /** Why it was refused, e.g. `administrative: invalid option` or `not valid JSON`. */
  readonly reason: string;
}

/** Everything the agent needs at start. */
export interface StoreSnapshot {
  /** Every host that passed the record schema, sorted by hostname. */
  readonly hosts: HostRecord[];
  /** The active alarm table. */
  readonly alarms: ActiveAlarm[];
  /** Records moved aside by this load (each logged once by the store). */
  readonly quarantined: QuarantinedRecord[];
}

/**
 * A transaction's view: reads see the store as of the transaction's start plus the transaction's own writes;
 * writes are buffered and committed together when the transaction function returns.
 */
export interface StoreTxn {
  getHost(hostname: string): HostRecord | undefined;
  hostnames(): string[];
  putHost(host: HostRecord): void;
  deleteHost(hostname: string): void;
  putAlarm(alarm: ActiveAlarm): void;
  deleteAlarm(key: string): void;
}

/**
 * Who may write. Plugged into a store with `setGuard` (the leader election of the controller pair does this):
 * every commit first asks the guard, and a guard that says no makes the commit fail with `STORE_FENCED`
 * and write nothing. An engine that can make the check part of its atomic commit does so through `fence`
 * (etcd: a compare on the leader key's create revision inside the same Txn); the file store calls `check()`.
 */
export interface WriteGuard {
  /** Shown in the error when the guard refuses (e.g. "leader lease 694d7a1c"). */
  readonly name: string;
  /** Resolve when this writer may still write; reject (any error) when it may not. */
  check(): Promise<void> | void;
  /** Engine-specific fence evaluated atomically with the commit (etcd: key + create revision it must still have). */
  readonly fence?: { readonly key: string; readonly createRevision?: number; readonly value?: string };
}

/** Stable codes of StoreError: branch on these, never on the message. */
export type StoreErrorCode =
  /** The write guard refused: this writer is not (or no longer) allowed to write. */
  | "STORE_FENCED"
  /** The medium is full (ENOSPC, EDQUOT): nothing of the commit was written; retry when space returns. */
  | "STORE_NO_SPACE"
  /** The medium failed (EIO, EROFS, a lost etcd quorum): nothing of the commit is acknowledged. */
  | "STORE_IO"
  /** A record given to a commit does not pass the record schema; nothing was written. */
  | "STORE_INVALID"
  /** The store was closed. */
  | "STORE_CLOSED";

/** Every failure of an InventoryStore. `cause` keeps the engine's own error (an errno, a gRPC status). */
export class StoreError extends Error {
  override readonly name = "StoreError";
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** True for a StoreError-shaped error with this code (works across copies of @metal/core). */
export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === "string" && c.startsWith("STORE_") && (code === undefined || c === code);
}

/**
 * The durable inventory: hosts (with their running and queued admin actions), the active alarm table and
 * the alarm history. Implemented by the file store (one machine, the embedded default) and the etcd store
 * (the controller pair); both pass `testing/store-conformance.ts`.
 *
 * Contract:
 * - **Committed before acknowledged**: when `commit`, `transact`, `save`, `remove` or `appendHistory` resolves,
 *   the data survives kill -9 of this process and a power loss (fsync, or an etcd quorum write). Callers
 *   answer a client only after that.
 * - **Atomic**: a commit's operations all take effect or none does, also across a kill -9 in the middle.
 * - **Serialised**: commits of one store object apply in call order.
 * - **Validated**: records are checked against the record schema on write (`STORE_INVALID`) and on load; a
 *   bad stored record is moved to quarantine with one log line naming it and the reason, and the rest loads.
 * - **Guarded**: with a guard set, a commit the guard refuses fails with `STORE_FENCED` and writes nothing.
 * - **Faults are errors**: a full or failing medium rejects with `STORE_NO_SPACE` / `STORE_IO`; the store
 *   stays usable and a later commit succeeds once the medium recovers.
 */
export interface InventoryStore {
  /** Read hosts and active alarms; quarantine bad records. */
  load(): Promise<StoreSnapshot>;
  /** Commit the operations atomically and durably, in order. An empty list is a no-op. */
  commit(ops: readonly StoreOp[]): Promise<void>;
  /**
   * Run `fn` against a transaction and commit its writes atomically; resolves with fn's result once committed.
   * If fn throws, nothing is written. An engine may run fn more than once (optimistic retry): keep it free of
   * side effects other than the transaction's own writes.
   */
  transact<T>(fn: (tx: StoreTxn) => T | Promise<T>): Promise<T>;
  /** One-host convenience for `commit([{op: "putHost", host}])`. */
  save(host: HostRecord): Promise<void>;
  /** One-host convenience for `commit([{op: "deleteHost", hostname}])`; removing a missing host is no error. */
  remove(hostname: string): Promise<void>;
  /** Append alarm history records durably (the customer log of reference §7), in order. */
  appendHistory(records: readonly AlarmRecord[]): Promise<void>;
  /** The alarm history, oldest first; `limit` keeps the newest n. A torn tail record is skipped. */
  readHistory(opts?: { limit?: number }): Promise<AlarmRecord[]>;
  /** Install (or with undefined remove) the write guard consulted before every commit. */
  setGuard(guard: WriteGuard | undefined): void;
  /** Release files/connections; later calls fail with STORE_CLOSED. */
  close(): Promise<void>;
}
