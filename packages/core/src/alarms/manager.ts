import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
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
}

/**
 * The in-memory alarm table of reference §7: a set is delivered only when the alarm is new or its severity
 * changed, a clear only when it was active (the de-duplication of the per-host `alarms[]` array).
 * Sink failures are retried by the audit, so a trap receiver that was down gets the alarm later.
 */
export class DefaultAlarmManager implements AlarmManager {
  private readonly table = new Map<string, ActiveAlarm>();
  /** Records a sink failed to take, retried on the next audit. */
  private readonly undelivered: Array<{ sink: AlarmSink; record: AlarmRecord }> = [];
  private readonly listeners = new Set<(r: AlarmRecord) => void>();
  delivered = 0;

  constructor(private readonly o: AlarmManagerOptions) {
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
    const retry = this.undelivered.splice(0);
    let redelivered = 0;
    for (const { sink, record } of retry) {
      if (await this.deliverTo(sink, record)) redelivered++;
    }
    return { cleared, redelivered };
  }

  async close(): Promise<void> {
    for (const s of this.o.sinks) await s.close?.();
  }

  private emit(record: AlarmRecord): void {
    for (const l of this.listeners) l(record);
    for (const sink of this.o.sinks) void this.deliverTo(sink, record);
  }

  private async deliverTo(sink: AlarmSink, record: AlarmRecord): Promise<boolean> {
    try {
      await sink.deliver(record);
      this.delivered++;
      return true;
    } catch (err) {
      if (this.undelivered.length < 10_000) this.undelivered.push({ sink, record });
      this.o.log.warn({ sink: sink.name, alarm: record.id, err: (err as Error).message }, "alarm sink failed; will retry at audit");
      return false;
    }
  }

  private persist(): void {
    const file = this.o.stateFile;
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    const fd = openSync(temp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify([...this.table.values()]));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
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
