import type { AlarmManager, AlarmSeverity } from "../alarms/alarm-manager.js";
import type { EventFeed } from "../bmc/event-feed.js";
import type { SensorReading } from "../plugin-api/bmc.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import { DEFAULT_GROUP_ACTIONS, type GroupActions, type HwmonAction, validateGroupActions } from "./actions.js";
import { SensorDebouncer } from "./debounce.js";
import { SENSOR_GROUPS, type SensorGroup, sensorGroupOf } from "./groups.js";
import { actionLevel, type HwmonSeverity, severityOf } from "./severity.js";

export const SENSOR_ALARM = "200.007";
export const SENSOR_GROUP_READ_ALARM = "200.015";

/** What hwmon tells maintenance (reference: MTC_DEGRADE_RAISE/CLEAR, MTC_EVENT_HWMON_RESET, _POWERCYCLE). */
export interface HwmonAgentPort {
  degrade(hostname: string, raised: boolean): void;
  reset(hostname: string, reason: string): void;
  powerCycle(hostname: string, reason: string): void;
}

export interface HwmonMonitorOptions {
  hostname: string;
  /** One sensor read of the host's BMC (through its broker). */
  read: () => Promise<SensorReading[]>;
  clock: Clock;
  alarms: AlarmManager;
  agent: HwmonAgentPort;
  logger?: Logger;
  systemType?: "standard" | "aio-sx" | "aio-dx";
  /** Per-group audit interval, ms (reference default 120 s). */
  auditIntervalMs?: number;
  groupIntervalsMs?: Partial<Record<SensorGroup, number>>;
  /** Degrade audit: re-send raise/clear every period (reference 30 s). */
  degradeAuditMs?: number;
  actions?: Partial<Record<SensorGroup, Partial<GroupActions>>>;
  defaultActions?: GroupActions;
  /**
   * BMC events (issue 15 item 13): a sensor event reads at once (twice, so the debounce can agree), and while
   * the subscription is live the per-group poll slows to `reconcileIntervalMs`; after a loss the feed
   * subscribes again and one read reconciles what was missed.
   */
  events?: EventFeed;
  /** The slower reconciling poll while events flow (default 10 × the audit interval). */
  reconcileIntervalMs?: number;
}

const ALARM_SEVERITY: Record<"minor" | "major" | "critical", AlarmSeverity> = { minor: "minor", major: "major", critical: "critical" };

interface SensorState {
  group: SensorGroup;
  debounce: SensorDebouncer;
  /** The action applied for the current severity, if it raised an alarm. */
  alarmed: boolean;
}

/**
 * hwmon for one host (reference §6.4): reads the BMC's sensors per group interval, maps status to severity,
 * debounces (two agreeing readings), and applies the group's action for the level: ignore, log, alarm
 * (200.007 + degrade), reset or power-cycle. A failed read raises 200.015 for the host's groups.
 */
export class HwmonMonitor {
  private readonly sensors = new Map<string, SensorState>();
  private readonly actions: Record<SensorGroup, GroupActions>;
  private readonly due = new Map<SensorGroup, number>();
  private timer: TimerHandle | undefined;
  private degradeTimer: TimerHandle | undefined;
  private readErrorRaised = new Set<string>();
  private auditing = false;
  /** stop() was called: a read still in flight then changes nothing (a stopping agent raises no alarm from it). */
  private stopped = false;
  /** Forced (all-group) reads still owed after an event arrived during an audit. */
  private pendingForced = 0;
  /** Reads done, by cause, for tests and the events-vs-polling bench. */
  readonly reads = { poll: 0, event: 0 };
  /** Log lines the reference raises as 200.007 customer logs (transients, "log" actions), for the operator view. */
  readonly events: Array<{ at: number; sensor: string; text: string }> = [];

  constructor(private readonly o: HwmonMonitorOptions) {
    const system = o.systemType ?? "standard";
    const base = o.defaultActions ?? DEFAULT_GROUP_ACTIONS;
    this.actions = Object.fromEntries(SENSOR_GROUPS.map((g) => [g, validateGroupActions(g, { ...base, ...o.actions?.[g] }, system)])) as Record<
      SensorGroup,
      GroupActions
    >;
  }

  private intervalOf(g: SensorGroup): number {
    const poll = this.o.groupIntervalsMs?.[g] ?? this.o.auditIntervalMs ?? 120_000;
    return this.o.events?.subscribed ? Math.max(poll, this.o.reconcileIntervalMs ?? poll * 10) : poll;
  }

  private pollIntervalOf(g: SensorGroup): number {
    return this.o.groupIntervalsMs?.[g] ?? this.o.auditIntervalMs ?? 120_000;
  }

  /** A sensor event, or a fresh subscription: read every group now and once more to confirm. */
  private readNow(): void {
    this.pendingForced = Math.max(this.pendingForced, this.auditing ? 2 : 1);
    void this.audit(true);
  }

  /** Whether the host is degraded by hwmon: some sensor holds an alarm. */
  get degraded(): boolean {
    return [...this.sensors.values()].some((s) => s.alarmed);
  }

  severity(sensor: string): HwmonSeverity | undefined {
    return this.sensors.get(sensor)?.debounce.severity;
  }

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    const feed = this.o.events;
    if (feed) {
      feed.onEvent((e) => {
        if (e.kind === "sensor") this.readNow();
      });
      feed.onResubscribed(() => this.readNow());
    }
    const tick = Math.min(...SENSOR_GROUPS.map((g) => this.pollIntervalOf(g)));
    void this.audit();
    this.timer = this.o.clock.setInterval(() => void this.audit(), tick);
    this.degradeTimer = this.o.clock.setInterval(() => this.o.agent.degrade(this.o.hostname, this.degraded), this.o.degradeAuditMs ?? 30_000);
  }

  stop(): void {
    this.stopped = true;
    this.o.clock.clearInterval(this.timer);
    this.o.clock.clearInterval(this.degradeTimer);
    this.timer = undefined;
    this.degradeTimer = undefined;
  }

  /** One audit: read once, then handle each group that is due (every group when `force`, after an event). */
  async audit(force = false): Promise<void> {
    if (this.auditing) return;
    this.auditing = true;
    try {
      const now = this.o.clock.now();
      const dueGroups = force ? [...SENSOR_GROUPS] : SENSOR_GROUPS.filter((g) => (this.due.get(g) ?? 0) <= now);
      if (dueGroups.length === 0) return;
      this.reads[force ? "event" : "poll"]++;
      let readings: SensorReading[];
      try {
        readings = await this.o.read();
      } catch (err) {
        if (!this.stopped) this.readFailed(dueGroups, (err as Error).message);
        return;
      }
      if (this.stopped) return;
      for (const g of dueGroups) this.due.set(g, now + this.intervalOf(g));
      this.readOk();
      const wasDegraded = this.degraded;
      for (const r of readings) {
        const group = sensorGroupOf(r.unit);
        if (dueGroups.includes(group)) this.handle(r, group);
      }
      if (this.degraded !== wasDegraded) this.o.agent.degrade(this.o.hostname, this.degraded);
    } finally {
      this.auditing = false;
      if (this.pendingForced > 0) {
        this.pendingForced--;
        void this.audit(true);
      }
    }
  }

  private groupsKnown(): SensorGroup[] {
    return [...new Set([...this.sensors.values()].map((s) => s.group))];
  }

  private readFailed(groups: SensorGroup[], why: string): void {
    const known = this.groupsKnown();
    const affected = known.length ? groups.filter((g) => known.includes(g)) : ["server" as const];
    for (const g of affected) {
      const entity = `sensorgroup=${g}`;
      if (this.readErrorRaised.has(entity)) continue;
      this.readErrorRaised.add(entity);
      this.o.alarms.raise({
        id: SENSOR_GROUP_READ_ALARM,
        hostname: this.o.hostname,
        severity: "major",
        entity,
        text: `${this.o.hostname} sensor group ${g} read failure: ${why}`,
      });
    }
    this.o.logger?.warn({ host: this.o.hostname, err: why }, "sensor read failed");
  }

  private readOk(): void {
    for (const entity of this.readErrorRaised) this.o.alarms.clear(SENSOR_GROUP_READ_ALARM, this.o.hostname, entity);
    this.readErrorRaised.clear();
  }

  private handle(r: SensorReading, group: SensorGroup): void {
    let s = this.sensors.get(r.name);
    if (!s) {
      s = { group, debounce: new SensorDebouncer(), alarmed: false };
      this.sensors.set(r.name, s);
    }
    const result = s.debounce.update(severityOf(r.status));
    if (result.kind === "transient") {
      this.note(r.name, `${r.name} transient ${result.from} → ${result.to} (reading ${r.value ?? "na"} ${r.unit})`);
      return;
    }
    if (result.kind === "steady") return;
    const level = actionLevel(result.to);
    const entity = `sensor=${r.name}`;
    if (!level) {
      // Back to good (or offline: no reading is no evidence of a fault): the sensor's alarm goes.
      if (s.alarmed) this.o.alarms.clear(SENSOR_ALARM, this.o.hostname, entity);
      s.alarmed = false;
      this.note(r.name, `${r.name} is ${result.to}`);
      return;
    }
    const action: HwmonAction = this.actions[group][level];
    const text = `${this.o.hostname} sensor ${r.name} is ${result.to} (reading ${r.value ?? "na"} ${r.unit})`;
    if (s.alarmed && action !== "alarm" && action !== "reset" && action !== "power-cycle") {
      this.o.alarms.clear(SENSOR_ALARM, this.o.hostname, entity);
      s.alarmed = false;
    }
    switch (action) {
      case "ignore":
        return;
      case "log":
        this.note(r.name, text);
        return;
      case "alarm":
        this.o.alarms.raise({ id: SENSOR_ALARM, hostname: this.o.hostname, severity: ALARM_SEVERITY[level], entity, text });
        s.alarmed = true;
        return;
      case "reset":
        this.o.alarms.raise({ id: SENSOR_ALARM, hostname: this.o.hostname, severity: "critical", entity, text: `${text}; host is 'resetting'` });
        s.alarmed = true;
        this.o.agent.reset(this.o.hostname, text);
        return;
      case "power-cycle":
        this.o.alarms.raise({ id: SENSOR_ALARM, hostname: this.o.hostname, severity: "critical", entity, text: `${text}; host is 'power-cycling'` });
        s.alarmed = true;
        this.o.agent.powerCycle(this.o.hostname, text);
        return;
    }
  }

  private note(sensor: string, text: string): void {
    this.events.push({ at: this.o.clock.now(), sensor, text });
    if (this.events.length > 1000) this.events.splice(0, 500);
    this.o.logger?.info({ host: this.o.hostname, sensor, alarm: SENSOR_ALARM }, text);
  }
}
