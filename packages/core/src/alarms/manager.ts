import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { StateWriteHealth } from "../logging/state-writes.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import type { ActiveAlarm, AlarmEvent, AlarmManager } from "./alarm-manager.js";
import { alarmDefinition } from "./catalog.js";
import type { AlarmRecord, AlarmSink } from "./sink.js";

const key = (id: string, hostname: string, entity?: string) => `${id}|${hostname}|${entity ?? ""}`;

export interface AlarmManagerOptions {
  clock: Clock;
  log: Logger;
  sinks: AlarmSink[];
  /** Active alarms are kept here (write-temp, fsync, rename) and reloaded after a restart. */
  stateFile?: string;
  /** Where failing state writes are told (one line per episode); default a tracker of this manager's own. */
  writes?: StateWriteHealth;
}

/** Records kept per sink while it fails; past this the oldest is dropped (and counted). */
const MAX_BACKLOG = 10_000;
/** `retryWrites` tries at most this often (ms of the manager's clock): it is called on every scheduler pass. */
const RETRY_EVERY_MS = 1_000;

/**
 * The in-memory alarm table of reference §7: a set is delivered only when the alarm is new or its severity
 * changed, a clear only when it was active (the de-duplication of the per-host `alarms[]` array).
 * Sink failures are retried by the audit, so a trap receiver that was down gets the alarm later.
 *
 * Faults are errors, not exits (issue 11): a failing write of the table (alarms.json) or of a sink that keeps
 * state (the history file: `stateTarget`) never throws out of raise/clear. The table stays right in memory,
 * the failure is told to `writes` (one log line per episode), and `retryWrites` (every scheduler pass, at most
 * once a second) writes the table and the sink's backlog, in order, once the medium takes them again.
 */
export class DefaultAlarmManager implements AlarmManager {
  private readonly table = new Map<string, ActiveAlarm>();
  /** Per sink, in order, the records not yet delivered (being delivered, failed, or queued behind either). */
  private readonly backlog = new Map<AlarmSink, AlarmRecord[]>();
  /** Sinks whose queue is being delivered now. */
  private readonly draining = new Set<AlarmSink>();
  /** Sinks without a stateTarget that are failing now (their episode is logged once). */
  private readonly failingSinks = new Set<AlarmSink>();
  private readonly listeners = new Set<(r: AlarmRecord) => void>();
  /** The table changed since it was last written (a write failed). */
  private tableUnsaved = false;
  private lastRetry = Number.NEGATIVE_INFINITY;
  private retrying = false;
  private closed = false;
  readonly writes: StateWriteHealth;
  delivered = 0;
  /** Records dropped because a sink's backlog was full. */
  dropped = 0;

  constructor(private readonly o: AlarmManagerOptions) {
    this.writes = o.writes ?? new StateWriteHealth(o.log);
    if (o.stateFile) this.reload(o.stateFile);
  }

  raise(alarm: AlarmEvent): void {
    const def = alarmDefinition(alarm.id);
    if (!def) {
      this.o.log.error({ alarm: alarm.id }, "unknown alarm id; not raised");
      return;
    }
    if (def.kind === "log") {
      this.emit({ ...alarm, operation: "msg", at: this.o.clock.now() });
      return;
    }
    const k = key(alarm.id, alarm.hostname, alarm.entity);
    const cur = this.table.get(k);
    if (cur && cur.severity === alarm.severity && cur.text === alarm.text) return;
    this.table.set(k, { ...alarm, raisedAt: cur?.raisedAt ?? this.o.clock.now() });
    this.persist();
    this.emit({ ...alarm, operation: "set", at: this.o.clock.now() });
  }

  /** A 200.02x customer log (event, command, state change). */
  log(id: string, hostname: string, text: string): void {
    this.raise({ id, hostname, severity: "warning", text });
  }

  clear(id: string, hostname: string, entity?: string): void {
    const k = key(id, hostname, entity);
    const cur = this.table.get(k);
    if (!cur) return;
    this.table.delete(k);
    this.persist();
    this.emit({ id, hostname, severity: "clear", text: cur.text, ...(entity ? { entity } : {}), operation: "clear", at: this.o.clock.now() });
  }

  /** Clear every alarm of a host (delete). */
  clearHost(hostname: string): void {
    for (const a of [...this.table.values()]) if (a.hostname === hostname) this.clear(a.id, a.hostname, a.entity);
  }

  isActive(id: string, hostname: string, entity?: string): boolean {
    return this.table.has(key(id, hostname, entity));
  }

  severity(id: string, hostname: string, entity?: string): string | undefined {
    return this.table.get(key(id, hostname, entity))?.severity;
  }

  active(): readonly ActiveAlarm[] {
    return [...this.table.values()].sort((a, b) => a.raisedAt - b.raisedAt || a.hostname.localeCompare(b.hostname));
  }

  /** Add a sink after construction (the controller pair adds the store's once it has one). */
  addSink(sink: AlarmSink): void {
    this.o.sinks.push(sink);
  }

  /**
   * Replace the active table with `list` without delivering anything (a takeover starts from the alarms the store
   * holds: they were delivered by the agent that raised them). Unknown ids are skipped.
   */
  replaceActive(list: readonly ActiveAlarm[]): void {
    this.table.clear();
    for (const a of list) if (alarmDefinition(a.id)) this.table.set(key(a.id, a.hostname, a.entity), a);
    this.persist();
  }

  onRecord(listener: (r: AlarmRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The periodic audit (mtcAlarm_audit): make the table match what maintenance believes (`expected` says,
   * per host, which alarm ids must be active and which must not), and re-deliver what a sink missed.
   */
  async audit(expected?: (a: ActiveAlarm) => boolean): Promise<{ cleared: number; redelivered: number }> {
    let cleared = 0;
    if (expected) {
      for (const a of [...this.table.values()]) {
        if (!expected(a)) {
          this.clear(a.id, a.hostname, a.entity);
          cleared++;
        }
      }
    }
    if (this.tableUnsaved) this.persist();
    const redelivered = await this.drainBacklogs();
    return { cleared, redelivered };
  }

  /**
   * Write what a failing medium or sink kept back: the table (when a write of it failed) and every sink's
   * backlog, oldest first, stopping at a sink's first failure. Cheap when nothing is pending; at most once per
   * second otherwise. Never throws.
   */
  retryWrites(): void {
    if (!this.tableUnsaved && this.backlog.size === this.draining.size) return;
    const now = this.o.clock.now();
    if (this.retrying || now - this.lastRetry < RETRY_EVERY_MS) return;
    this.lastRetry = now;
    if (this.tableUnsaved) this.persist();
    this.retrying = true;
    void this.drainBacklogs().finally(() => {
      this.retrying = false;
    });
  }

  /** Whether the table or a sink has something not yet written. */
  get pendingWrites(): number {
    let n = this.tableUnsaved ? 1 : 0;
    for (const q of this.backlog.values()) n += q.length;
    return n;
  }

  /** Close the sinks; a change after this still updates the table and alarms.json, but reaches no sink. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.o.sinks) await s.close?.();
  }

  private emit(record: AlarmRecord): void {
    for (const l of this.listeners) l(record);
    if (this.closed) return;
    for (const sink of this.o.sinks) this.deliverTo(sink, record);
  }

  private async drainBacklogs(): Promise<number> {
    let redelivered = 0;
    for (const sink of [...this.backlog.keys()]) redelivered += await this.drain(sink);
    return redelivered;
  }

  /**
   * Deliver a sink's queue in order until it is empty (then the queue is gone) or a delivery fails (then it
   * stays, and records emitted meanwhile wait behind it). A synchronous sink (log, history file) is delivered
   * to synchronously; an async one (SNMP) one record at a time. One drain per sink at a time. Resolves to the
   * count delivered; never rejects.
   */
  private drain(sink: AlarmSink): Promise<number> {
    const queue = this.backlog.get(sink);
    if (!queue || this.draining.has(sink)) return Promise.resolve(0);
    this.draining.add(sink);
    let n = 0;
    const finish = (): number => {
      if (queue.length === 0 && this.backlog.get(sink) === queue) this.backlog.delete(sink);
      this.draining.delete(sink);
      return n;
    };
    const delivered = (): void => {
      queue.shift();
      n++;
      this.deliveredTo(sink);
    };
    const step = (): Promise<number> | number => {
      while (queue.length) {
        const record = queue[0] as AlarmRecord;
        let r: Promise<void> | void;
        try {
          r = sink.deliver(record);
        } catch (err) {
          this.failedAt(sink, record, err);
          return finish();
        }
        if (r instanceof Promise) {
          return r.then(
            () => {
              delivered();
              return step();
            },
            (err: unknown) => {
              this.failedAt(sink, record, err);
              return finish();
            },
          );
        }
        delivered();
      }
      return finish();
    };
    return Promise.resolve(step());
  }

  /** Queue the record behind what the sink still owes, and deliver the queue unless a delivery is under way. */
  private deliverTo(sink: AlarmSink, record: AlarmRecord): void {
    const queue = this.backlog.get(sink);
    if (queue) {
      this.enqueue(sink, queue, record);
      return;
    }
    this.backlog.set(sink, [record]);
    void this.drain(sink);
  }

  private enqueue(sink: AlarmSink, queue: AlarmRecord[], record: AlarmRecord): void {
    if (queue.length >= MAX_BACKLOG) {
      // The oldest that is not being delivered right now.
      queue.splice(this.draining.has(sink) ? 1 : 0, 1);
      this.dropped++;
    }
    queue.push(record);
  }

  private deliveredTo(sink: AlarmSink): void {
    this.delivered++;
    if (sink.stateTarget) this.writes.ok(sink.stateTarget);
    else if (this.failingSinks.delete(sink)) this.o.log.info({ sink: sink.name }, "alarm sink works again");
  }

  /** A failed delivery is told once per episode: a state sink's to `writes`, another sink's as one warn line. */
  private failedAt(sink: AlarmSink, record: AlarmRecord, err: unknown): void {
    if (sink.stateTarget) this.writes.failed(sink.stateTarget, err, sink.statePath);
    else if (!this.failingSinks.has(sink)) {
      this.failingSinks.add(sink);
      this.o.log.warn({ sink: sink.name, alarm: record.id, err: (err as Error)?.message }, "alarm sink failed; will retry");
    }
  }

  /** Write the table (temp, fsync, rename). A failure is kept as `tableUnsaved` and told to `writes`; never throws. */
  private persist(): void {
    const file = this.o.stateFile;
    if (!file) return;
    const temp = `${file}.${process.pid}.tmp`;
    let fd: number | undefined;
    try {
      mkdirSync(dirname(file), { recursive: true });
      fd = openSync(temp, "w", 0o600);
      const text = Buffer.from(JSON.stringify([...this.table.values()]));
      for (let at = 0; at < text.length; ) at += writeSync(fd, text, at);
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(temp, file);
      this.tableUnsaved = false;
      this.writes.ok("alarms");
    } catch (err) {
      if (fd !== undefined) {
        try {
          closeSync(fd);
        } catch {
          // already failing; the temp is removed below
        }
      }
      try {
        unlinkSync(temp);
      } catch {
        // never created
      }
      this.tableUnsaved = true;
      this.writes.failed("alarms", err, file);
    }
  }

  private reload(file: string): void {
    let list: ActiveAlarm[];
    try {
      list = JSON.parse(readFileSync(file, "utf8")) as ActiveAlarm[];
    } catch {
      return;
    }
    if (!Array.isArray(list)) return;
    for (const a of list) {
      if (a && typeof a.id === "string" && typeof a.hostname === "string" && alarmDefinition(a.id)) this.table.set(key(a.id, a.hostname, a.entity), a);
    }
  }
}
