import { join } from "node:path";
import type { ActiveAlarm } from "../alarms/alarm-manager.js";
import { HistoryFileSink } from "../alarms/history-sink.js";
import { LogAlarmSink } from "../alarms/log-sink.js";
import { DefaultAlarmManager } from "../alarms/manager.js";
import type { AlarmSink } from "../alarms/sink.js";
import { SnmpTrapSink } from "../alarms/snmp-sink.js";
import { BmcAccessMonitor } from "../bmc/access-monitor.js";
import { BmcBrokerPool, brokerSettings } from "../bmc/broker-pool.js";
import { EventFeed } from "../bmc/event-feed.js";
import { carryLearned, withLearned } from "../bmc/learn.js";
import { nodePaths } from "../config/paths.js";
import type { MetalConfig } from "../config/schema.js";
import { type ActionVerdict, requestAction } from "../fsm/admin-actions.js";
import { SEC } from "../fsm/common.js";
import { applyHeartbeatEvent, applyHostMessage, hwmonAction } from "../fsm/events.js";
import { type BmcAccess, HostCtx, type MaintenanceEnv } from "../fsm/host-context.js";
import { Mnfa } from "../fsm/mnfa.js";
import { recoveredActions } from "../fsm/recovered-actions.js";
import { Scheduler } from "../fsm/scheduler.js";
import { HttpServiceManager, type ServiceManager, SimulatedServiceManager } from "../fsm/service-manager.js";
import { gateHeartbeat, gateMessaging } from "../ha/gated-ports.js";
import { type HwmonAgentPort, HwmonMonitor } from "../hwmon/monitor.js";
import { hwmonSettings } from "../hwmon/settings.js";
import { FileInventoryStore } from "../inventory/file-store.js";
import { DegradeMask, type NewHost, newHostRecord } from "../inventory/host.js";
import { validateNewHost } from "../inventory/record-schema.js";
import type { HostRecord, InventoryStore, StoreErrorCode } from "../inventory/store.js";
import type { StateWriteHealth } from "../logging/state-writes.js";
import type { BmcRegistry } from "../plugin-api/bmc.js";
import type { Secret } from "../plugin-api/secret.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import { provisioningKey, RegistryBmcAccess } from "./bmc-access.js";
import type { HeartbeatControl, HostMessaging } from "./ports.js";

export interface MtcAgentOptions {
  config: MetalConfig;
  clock: Clock;
  log: Logger;
  messaging: HostMessaging;
  heartbeat: HeartbeatControl;
  bmcRegistry?: BmcRegistry;
  bmc?: BmcAccess;
  resolveSecret?: (ref: string) => Secret;
  store?: InventoryStore;
  alarms?: DefaultAlarmManager;
  extraSinks?: AlarmSink[];
  sm?: ServiceManager;
  /** This controller's uptime in seconds at agent start (DOR detection); default os uptime. */
  controllerUptimeS?: number;
  /** Why a BMC secret reference is refused (security.secretsDir policy); undefined when it is acceptable. */
  checkSecretRef?: (ref: string) => string | undefined;
  /** Kept in step with the inventory (AgentMessaging: addresses, MAC, admin state for the lock-flag audit). */
  directory?: HostDirectory;
  /** HA (issue 12): act (FSM passes, host commands, heartbeat control, store writes) only while this holds. */
  gate?: () => boolean;
}

/** What messaging needs from the inventory (AgentMessaging implements it). */
export interface HostDirectory {
  setHost(h: { hostname: string; mgmtIp: string; mgmtMac?: string; clusterHostIp?: string; pxebootIp?: string; administrative?: "locked" | "unlocked" }): void;
  removeHost(hostname: string): void;
  watchPxeboot?(hostname: string, on: boolean): void;
  resetSequences?(hostname: string): void;
}

/** The alarm table with the configured sinks: log, the append-only history file, SNMP traps. */
export function createAlarmManager(config: MetalConfig, clock: Clock, log: Logger, extraSinks: AlarmSink[] = []): DefaultAlarmManager {
  const stateDir = config.maintenance.stateDir ?? nodePaths(config.root).agentState;
  const sinks: AlarmSink[] = [new LogAlarmSink(log), new HistoryFileSink(config.maintenance.alarmHistory ?? join(stateDir, "alarm-history.jsonl"))];
  for (const t of config.maintenance.snmpTraps) sinks.push(new SnmpTrapSink(t));
  sinks.push(...extraSinks);
  return new DefaultAlarmManager({ clock, log, sinks, stateFile: join(stateDir, "alarms.json") });
}

/** Why a mutation was not done; `code` decides the answer (api/errors.ts maps it to an HTTP status). */
export interface MutationFailure {
  ok: false;
  reason: string;
  code: MutationFailureCode;
  notFound?: true;
}
export type MutationFailureCode = "INVALID" | "CONFLICT" | "NOT_FOUND" | "REFUSED" | StoreErrorCode;

export interface HostView extends HostRecord {
  handler?: string;
  stage?: string;
  queued: string[];
}

/**
 * mtcAgent: owns the inventory and the alarm table, runs the scheduler over every host, turns host messages
 * and heartbeat events into FSM facts, and persists what changes. On start it reloads every host and
 * replays the add handler for each (state recovery), with dead-office recovery when the controller has just
 * booted (reference §2.18).
 */
export class MtcAgent {
  readonly scheduler: Scheduler;
  readonly alarms: DefaultAlarmManager;
  readonly mnfa: Mnfa;
  readonly env: MaintenanceEnv;
  readonly store: InventoryStore;
  readonly sm: ServiceManager;
  private readonly dirty = new Set<string>();
  private readonly removed = new Set<string>();
  private dorUntil = 0;
  /** This start is an HA takeover (issue 12), not an agent restart. */
  private takeoverStart = false;
  private unsubscribe: Array<() => void> = [];
  private auditTimer: TimerHandle | undefined;
  private flushing = false;
  /** Hosts whose add is being committed (names, addresses and MACs are taken). */
  private readonly adding = new Map<string, HostRecord>();
  /** Whether the agent's state files are being written; shared with the alarm manager (one tracker for hosts, alarms, history). */
  readonly writes: StateWriteHealth;
  /** The store fault of the current episode (logged once; cleared by the next good write). */
  private storeFault: string | undefined;
  /** bmc_handler's access monitoring (200.010) and hwmon's sensor monitoring, one of each per provisioned BMC. */
  private readonly monitors = new Map<string, { key: string; monitor: BmcAccessMonitor; sensors?: HwmonMonitor }>();
  private readonly pool: BmcBrokerPool | undefined;
  /** Told how long each durable inventory write took, in ms (the API's metrics set it). */
  storeWriteObserver: ((ms: number) => void) | undefined;

  constructor(private readonly o: MtcAgentOptions) {
    const cfg = o.config;
    const stateDir = cfg.maintenance.stateDir ?? nodePaths(cfg.root).agentState;
    this.store = o.store ?? new FileInventoryStore({ stateDir, log: o.log });
    this.alarms = o.alarms ?? createAlarmManager(cfg, o.clock, o.log, o.extraSinks);
    this.writes = this.alarms.writes;
    this.scheduler = new Scheduler(o.clock, cfg.maintenance.tickMs);
    const self = cfg.node.hostname;
    this.sm =
      o.sm ??
      (cfg.maintenance.smUrl
        ? new HttpServiceManager(cfg.maintenance.smUrl)
        : new SimulatedServiceManager(
            self,
            () => [...this.scheduler.hosts.values()].filter((h) => h.isController).map((h) => h.name),
            (ms) => o.clock.sleep(ms),
          ));
    this.mnfa = new Mnfa(() => this.env);
    this.pool = o.bmcRegistry ? new BmcBrokerPool(o.bmcRegistry, brokerSettings(cfg), o.clock, o.log) : undefined;
    const bmc = o.bmc ?? (o.bmcRegistry ? new RegistryBmcAccess(o.bmcRegistry, o.log, o.resolveSecret, this.pool) : { driverFor: () => undefined });
    this.env = {
      clock: o.clock,
      log: o.log,
      config: cfg,
      messaging: o.gate ? gateMessaging(o.messaging, o.gate) : o.messaging,
      heartbeat: o.gate ? gateHeartbeat(o.heartbeat, o.gate) : o.heartbeat,
      alarms: this.alarms,
      bmc,
      sm: this.sm,
      self,
      hosts: () => this.scheduler.hosts.values(),
      host: (name) => this.scheduler.hosts.get(name),
      persist: (c) => this.dirty.add(c.name),
      mnfa: this.mnfa,
      dorActive: () => o.clock.now() < this.dorUntil,
      removeHost: (name) => this.removeHost(name),
      takeover: () => this.takeoverStart,
    };
    this.scheduler.gate = o.gate;
    this.scheduler.onPass(() => this.flush());
  }

  get self(): string {
    return this.env.self;
  }

  /** Load the inventory, recover each host through the add handler, and start the scheduler. */
  async start(o: { takeover?: boolean } = {}): Promise<void> {
    this.takeoverStart = o.takeover ?? false;
    this.suspend();
    const { hosts: records } = await this.store.load();
    this.mirror([]);
    const uptime = this.o.controllerUptimeS ?? (await import("node:os")).uptime();
    if (uptime < this.o.config.timeouts.dorModeDetect) {
      const enabled = records.filter((r) => r.operational === "enabled").length;
      this.dorUntil = this.o.clock.now() + (this.o.config.timeouts.dorModeTimeout + enabled) * SEC;
      this.o.log.warn({ uptime, windowS: this.o.config.timeouts.dorModeTimeout + enabled }, "dead office recovery mode");
    }
    for (const stored of records) {
      // Every host replays the add handler; the action it was running and those queued behind it follow.
      const { queued: _, ...rec } = stored;
      const { action, queue } = recoveredActions(stored);
      rec.action = action;
      const c = new HostCtx(rec, this.env);
      c.queue.push(...queue);
      if (queue.length) this.o.log.info({ host: rec.hostname, resume: queue }, "admin actions resumed after add");
      this.scheduler.hosts.set(rec.hostname, c);
      this.publish(c);
    }
    this.unsubscribe.push(this.o.messaging.onMessage((m) => applyHostMessage(this.env, m)));
    this.unsubscribe.push(this.o.heartbeat.onEvent((e) => applyHeartbeatEvent(this.env, this.mnfa, e)));
    // A newly started mtcAgent always restores the heartbeat period (MNFA may have backed it off).
    this.env.heartbeat.recover();
    this.scheduler.start();
    this.auditTimer = this.o.clock.setInterval(() => void this.auditAlarms(), this.o.config.maintenance.alarmAuditPeriod * SEC);
  }

  async stop(): Promise<void> {
    this.suspend();
    // What cannot be written now (a full disk) is logged and left: every acknowledged change is already durable,
    // and the add handler recovers the rest at the next start.
    await this.flushNow().catch((err: unknown) => this.writes.failed("hosts", err));
    await this.pool?.closeAll();
    await this.alarms.close();
  }

  /**
   * Stop acting (HA standby, issue 12): the scheduler, the audit, the BMC monitors and the event subscriptions stop;
   * the hosts stay visible as last known. `start()` resumes from the store.
   */
  suspend(): void {
    this.scheduler.stop();
    this.o.clock.clearInterval(this.auditTimer);
    this.auditTimer = undefined;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const { monitor, sensors } of this.monitors.values()) {
      monitor.stop();
      sensors?.stop();
    }
    this.monitors.clear();
  }

  /** Show `records` (the standby's warm copy) as the hosts; nothing runs for them. Only while suspended. */
  mirror(records: HostRecord[]): void {
    this.dirty.clear();
    this.removed.clear();
    this.scheduler.hosts.clear();
    for (const rec of records) this.scheduler.hosts.set(rec.hostname, new HostCtx(rec, this.env));
  }

  /** The periodic alarm audit: no alarms for hosts that are gone, no lock alarm on unlocked hosts. */
  auditAlarms(): Promise<unknown> {
    return this.alarms.audit((a: ActiveAlarm) => {
      if (a.id === "200.020" || a.id === "200.021") return true;
      const c = this.scheduler.hosts.get(a.hostname);
      if (!c) return a.hostname === this.self;
      if (a.id === "200.001") return c.locked;
      return true;
    });
  }

  /**
   * Add a host in memory only (the lab and FSM tests on virtual time); the record is written by the next
   * scheduler pass. The REST API uses `commitAdd`, which answers only once the record is durable.
   */
  addHost(input: Partial<NewHost>): { ok: true; host: HostView } | MutationFailure {
    const prepared = this.prepareAdd(input);
    if (!prepared.ok) return prepared;
    const c = this.insertHost(prepared.rec);
    this.dirty.add(c.name);
    return { ok: true, host: this.view(c) };
  }

  /** Add a host durably: validated, committed to the store, then scheduled (reference add_host). */
  async commitAdd(input: unknown): Promise<{ ok: true; host: HostView } | MutationFailure> {
    const prepared = this.prepareAdd(input);
    if (!prepared.ok) return prepared;
    const rec = prepared.rec;
    const refused = rec.bmc?.secretRef ? this.o.checkSecretRef?.(rec.bmc.secretRef) : undefined;
    if (refused) return { ok: false, reason: `bmc.secretRef: ${refused}`, code: "INVALID" };
    this.adding.set(rec.hostname, rec);
    try {
      await this.store.save(rec);
      this.writes.ok("hosts");
    } catch (err) {
      return this.storeFailure(err);
    } finally {
      this.adding.delete(rec.hostname);
    }
    const c = this.insertHost(rec);
    return { ok: true, host: this.view(c) };
  }

  private prepareAdd(input: unknown): { ok: true; rec: HostRecord } | MutationFailure {
    const reason = validateNewHost(input as Partial<NewHost>);
    if (reason) return { ok: false, reason, code: "INVALID" };
    const h = input as NewHost;
    // Without a mgmt address the host cannot be heartbeated (the hbsAgent drops it) nor commanded.
    if (!h.mgmtIp) return { ok: false, reason: "mgmtIp: required (the host's management address)", code: "INVALID" };
    const badType = this.unknownBmcType(h.bmc?.type);
    if (badType) return { ok: false, reason: badType, code: "INVALID" };
    if (this.scheduler.hosts.has(h.hostname) || this.adding.has(h.hostname))
      return { ok: false, reason: `host ${h.hostname} already exists`, code: "CONFLICT" };
    const mac = h.mgmtMac?.toLowerCase();
    for (const r of [...[...this.scheduler.hosts.values()].map((c) => c.rec), ...this.adding.values()]) {
      if (h.mgmtIp && r.mgmtIp === h.mgmtIp) return { ok: false, reason: `mgmt address ${h.mgmtIp} is used by ${r.hostname}`, code: "CONFLICT" };
      if (mac && r.mgmtMac === mac) return { ok: false, reason: `MAC ${h.mgmtMac} is used by ${r.hostname}`, code: "CONFLICT" };
    }
    return { ok: true, rec: newHostRecord(h) };
  }

  /** The reason a BMC type is refused: no loaded plugin registered it (dynamic learns ipmi or redfish). */
  private unknownBmcType(type: string | undefined): string | undefined {
    const reg = this.o.bmcRegistry;
    if (type === undefined || !reg) return undefined;
    const known = [...new Set([...reg.list().map((e) => e.protocol), "dynamic"])];
    return known.includes(type) ? undefined : `bmc.type: no plugin provides BMC type '${type}' (known: ${known.join(", ")})`;
  }

  private insertHost(rec: HostRecord): HostCtx {
    const c = new HostCtx(rec, this.env);
    this.scheduler.hosts.set(rec.hostname, c);
    this.removed.delete(rec.hostname);
    this.alarms.log("200.020", rec.hostname, `${rec.hostname} added`);
    return c;
  }

  /**
   * Modify a host's provisioning (sysinv "modify"): addresses, MAC, BMC. Admin state changes go through
   * actions only. The BMC driver is re-created on the next use (the cache is keyed by the provisioning).
   * In memory only; the REST API uses `commitModify`.
   */
  modifyHost(hostname: string, fields: Record<string, unknown>): { ok: true; host: HostView } | MutationFailure {
    const r = this.prepareModify(hostname, fields);
    if (!r.ok) return r;
    r.c.rec = r.next;
    this.dirty.add(hostname);
    this.alarms.log("200.021", hostname, `${hostname} modified: ${Object.keys(fields).join(", ")}`);
    return { ok: true, host: this.view(r.c) };
  }

  /** Modify durably: the new record is committed before the change takes effect and before the answer. */
  async commitModify(hostname: string, fields: Record<string, unknown>): Promise<{ ok: true; host: HostView } | MutationFailure> {
    const r = this.prepareModify(hostname, fields);
    if (!r.ok) return r;
    const ref = (fields.bmc as HostRecord["bmc"] | undefined)?.secretRef;
    const refused = ref ? this.o.checkSecretRef?.(ref) : undefined;
    if (refused) return { ok: false, reason: `bmc.secretRef: ${refused}`, code: "INVALID" };
    const c = r.c;
    const before = c.rec;
    c.held++;
    try {
      c.rec = r.next;
      await this.store.save(this.recordOf(c));
      this.writes.ok("hosts");
    } catch (err) {
      // Put back the modified fields only; what events changed meanwhile stays.
      const back = { ...c.rec } as Record<string, unknown>;
      for (const k of ["mgmtIp", "mgmtMac", "clusterHostIp", "pxebootIp", "bmc", "mtceInfo", "personality", "subfunctions"]) {
        const v = (before as unknown as Record<string, unknown>)[k];
        if (v === undefined) delete back[k];
        else back[k] = v;
      }
      c.rec = back as unknown as HostRecord;
      return this.storeFailure(err);
    } finally {
      c.held--;
    }
    this.alarms.log("200.021", hostname, `${hostname} modified: ${Object.keys(fields).join(", ")}`);
    return { ok: true, host: this.view(c) };
  }

  private prepareModify(hostname: string, fields: Record<string, unknown>): { ok: true; c: HostCtx; next: HostRecord } | MutationFailure {
    const c = this.scheduler.hosts.get(hostname);
    if (!c) return { ok: false, reason: `no host named '${hostname}'`, notFound: true, code: "NOT_FOUND" };
    const allowed = ["mgmtIp", "mgmtMac", "clusterHostIp", "pxebootIp", "bmc", "personality", "subfunctions"];
    const unknown = Object.keys(fields).filter((k) => !allowed.includes(k));
    if (unknown.length)
      return { ok: false, reason: `cannot modify ${unknown.join(", ")} (modifiable: ${allowed.join(", ")}; use an action for admin state)`, code: "INVALID" };
    // The personality decides which handlers and hooks run: it changes only on a locked host (sysinv's rule).
    if (("personality" in fields || "subfunctions" in fields) && c.rec.administrative !== "locked")
      return { ok: false, reason: `personality and subfunctions change only on a locked host; lock ${hostname} first`, code: "CONFLICT" };
    if ("personality" in fields && !("subfunctions" in fields)) fields = { ...fields, subfunctions: [fields.personality] };
    const merged = { hostname, personality: c.rec.personality, ...fields };
    const reason = validateNewHost(merged as Partial<NewHost>);
    if (reason) return { ok: false, reason, code: "INVALID" };
    const badType = this.unknownBmcType((fields.bmc as HostRecord["bmc"] | undefined)?.type);
    if (badType) return { ok: false, reason: badType, code: "INVALID" };
    // A BMC at a new address (or of a new type) is learned again; otherwise what was learned stays.
    const next = carryLearned(c.rec, { ...c.rec, ...(fields as Partial<HostRecord>) });
    if (typeof next.mgmtMac === "string") next.mgmtMac = next.mgmtMac.toLowerCase();
    return { ok: true, c, next };
  }

  /** Request an admin action in memory (FSM tests, the lab); the REST API uses `commitAction`. */
  action(hostname: string, action: string): ActionVerdict | { ok: false; reason: string; notFound: true } {
    const c = this.scheduler.hosts.get(hostname);
    if (!c) return { ok: false, reason: `no host named '${hostname}'`, notFound: true };
    const verdict = requestAction(c, action);
    if (verdict.ok) this.o.log.info({ host: hostname, action, queued: verdict.queued }, "admin action");
    return verdict;
  }

  /**
   * Request an admin action durably: the host's new action and queue are committed before the answer, and
   * the host is held (not stepped by the scheduler) until then, so nothing is done that was not recorded.
   * A failed commit takes the request back.
   */
  async commitAction(hostname: string, action: string): Promise<{ ok: true; queued: boolean } | MutationFailure> {
    const c = this.scheduler.hosts.get(hostname);
    if (!c) return { ok: false, reason: `no host named '${hostname}'`, notFound: true, code: "NOT_FOUND" };
    const before = { action: c.rec.action, queue: [...c.queue], heldPoweredDown: c.heldPoweredDown };
    const verdict = requestAction(c, action);
    if (!verdict.ok) return { ...verdict, code: "REFUSED" };
    c.held++;
    try {
      await this.store.save(this.recordOf(c));
      this.writes.ok("hosts");
    } catch (err) {
      c.rec.action = before.action;
      c.queue.splice(0, c.queue.length, ...before.queue);
      c.heldPoweredDown = before.heldPoweredDown;
      this.dirty.add(hostname);
      return this.storeFailure(err);
    } finally {
      c.held--;
    }
    this.o.log.info({ host: hostname, action, queued: verdict.queued }, "admin action");
    return verdict;
  }

  /** The stored form of a host: its record with the queued admin actions. */
  recordOf(c: HostCtx): HostRecord {
    const { queued: _, ...rec } = c.rec;
    return c.queue.length ? { ...rec, queued: [...c.queue] } : rec;
  }

  private storeFailure(err: unknown): MutationFailure {
    const code = (err as { code?: string })?.code;
    const known = code === "STORE_NO_SPACE" || code === "STORE_IO" || code === "STORE_FENCED" || code === "STORE_INVALID" || code === "STORE_CLOSED";
    // A medium fault is logged once per episode (StateWriteHealth); a refused write of another kind per request.
    if (!known || code === "STORE_NO_SPACE" || code === "STORE_IO") this.writes.failed("hosts", err);
    else this.o.log.warn({ err: (err as Error)?.message, code }, "inventory write failed; request refused");
    return { ok: false, reason: `not recorded: ${(err as Error)?.message ?? String(err)}`, code: known ? code : "STORE_IO" };
  }

  hosts(): HostView[] {
    return [...this.scheduler.hosts.values()].map((c) => this.view(c)).sort((a, b) => a.hostname.localeCompare(b.hostname));
  }

  host(name: string): HostView | undefined {
    const c = this.scheduler.hosts.get(name);
    return c ? this.view(c) : undefined;
  }

  /** This agent's BMC brokers (one per BMC), with their call counters. */
  brokers(): ReturnType<BmcBrokerPool["list"]> {
    return this.pool?.list() ?? [];
  }

  ctx(name: string): HostCtx | undefined {
    return this.scheduler.hosts.get(name);
  }

  private view(c: HostCtx): HostView {
    const v: HostView = { ...structuredClone(c.rec), queued: [...c.queue] };
    if (c.run && !c.run.result) {
      v.handler = c.run.handler;
      v.stage = c.run.stage;
    }
    return v;
  }

  private removeHost(name: string): void {
    this.monitors.get(name)?.monitor.stop();
    this.monitors.get(name)?.sensors?.stop();
    this.monitors.delete(name);
    this.scheduler.hosts.delete(name);
    this.mnfa.forget(name);
    this.dirty.delete(name);
    this.removed.add(name);
    if (this.env.bmc instanceof RegistryBmcAccess) this.env.bmc.forget(name);
  }

  /** Keep one BMC access monitor per provisioned BMC; its probes and the handlers' calls share the broker. */
  private watchBmc(c: HostCtx): void {
    const driver = c.bmc();
    const key = driver ? provisioningKey(c.rec) : "";
    const cur = this.monitors.get(c.name);
    if (cur?.key === key) return;
    cur?.monitor.stop();
    cur?.sensors?.stop();
    this.monitors.delete(c.name);
    if (!key || !driver?.power) {
      this.alarms.clear("200.010", c.name);
      return;
    }
    const power = driver.power;
    // Redfish events (issue 15 item 13): one feed per host for the power audit and hwmon; polling stays as the reconciler.
    const events =
      driver.events && driver.supports("events")
        ? new EventFeed({ hostname: c.name, source: driver.events, clock: this.o.clock, logger: this.o.log })
        : undefined;
    const monitor = new BmcAccessMonitor({
      ...(events ? { events } : {}),
      hostname: c.name,
      probe: async () => {
        try {
          c.power = await power.status();
          c.bmcAccessible = true;
          this.keepLearned(c);
        } catch (err) {
          c.bmcAccessible = false;
          throw err;
        }
      },
      clock: this.o.clock,
      alarms: this.alarms,
      logger: this.o.log,
      probeIntervalMs: this.o.config.bmc.probeInterval * SEC,
      alarmDelayMs: this.o.config.bmc.accessAlarmDelay * SEC,
    });
    const read = driver.sensors?.read.bind(driver.sensors);
    const sensors =
      this.o.config.maintenance.hwmon && read
        ? new HwmonMonitor({
            hostname: c.name,
            read,
            clock: this.o.clock,
            alarms: this.alarms,
            agent: this.hwmon,
            logger: this.o.log,
            ...(events ? { events } : {}),
            ...hwmonSettings(this.o.config),
          })
        : undefined;
    this.monitors.set(c.name, { key, monitor, ...(sensors ? { sensors } : {}) });
    monitor.start();
    sensors?.start();
  }

  /**
   * bm_type dynamic: keep the protocol the driver learned with the host (reference §6.1 stores it in mtce_info),
   * so the next agent start uses it without learning again. Only after a call through it succeeded: a BMC that
   * did not answer at all says nothing about its protocol.
   */
  private keepLearned(c: HostCtx): void {
    const bmc = c.rec.bmc;
    if (!bmc || !(this.env.bmc instanceof RegistryBmcAccess)) return;
    const learned = this.env.bmc.learnedProtocol(c.rec);
    if (!learned || (bmc.learned === learned && c.rec.mtceInfo?.bmc_protocol === learned)) return;
    c.rec = withLearned({ ...c.rec, bmc }, learned);
    this.dirty.add(c.name);
    this.o.log.info({ host: c.name, protocol: learned }, "BMC protocol learned; kept with the host");
  }

  /** What hwmon tells maintenance: degrade (DEGRADE_MASK_HWMON), reset, power-cycle (reference §6.4). */
  readonly hwmon: HwmonAgentPort = {
    degrade: (hostname, raised) => {
      const c = this.scheduler.hosts.get(hostname);
      if (!c) return;
      if (raised) c.rec.degradeMask |= DegradeMask.Hwmon;
      else c.rec.degradeMask &= ~DegradeMask.Hwmon;
    },
    reset: (hostname, reason) => {
      const c = this.scheduler.hosts.get(hostname);
      if (c) hwmonAction(this.env, c, "reset", reason);
    },
    powerCycle: (hostname, reason) => {
      const c = this.scheduler.hosts.get(hostname);
      if (c) hwmonAction(this.env, c, "powercycle", reason);
    },
  };

  /** Tell messaging what it needs to know about a host (addresses, admin state, pxeboot watch). */
  private publish(c: HostCtx): void {
    this.watchBmc(c);
    const d = this.o.directory;
    if (!d || !c.rec.mgmtIp) return;
    const r = c.rec;
    d.setHost({
      hostname: r.hostname,
      mgmtIp: r.mgmtIp as string,
      administrative: r.administrative,
      ...(r.mgmtMac ? { mgmtMac: r.mgmtMac } : {}),
      ...(r.clusterHostIp ? { clusterHostIp: r.clusterHostIp } : {}),
      ...(r.pxebootIp ? { pxebootIp: r.pxebootIp } : {}),
    });
    // The pxeboot mtcAlive monitor runs only where this controller has a pxeboot network.
    if (this.o.config.networks.pxeboot) d.watchPxeboot?.(r.hostname, r.administrative === "unlocked" && r.operational === "enabled" && c.action === "none");
    if (r.availability === "offline") d.resetSequences?.(r.hostname);
  }

  private flush(): void {
    // Alarm state and history a full disk kept from being written are retried on the same passes.
    this.alarms.retryWrites();
    if (this.flushing || (this.dirty.size === 0 && this.removed.size === 0)) return;
    this.flushing = true;
    this.flushNow()
      .then(() => {
        if (this.storeFault) this.o.log.info({ was: this.storeFault }, "store writes accepted again");
        this.storeFault = undefined;
        this.writes.ok("hosts");
      })
      .catch((err: unknown) => {
        // Once per episode: the writes are retried every pass until the medium takes them again. A deposed HA
        // leader's write is refused with STORE_FENCED: the new leader owns the records now.
        const code = (err as { code?: string }).code ?? "STORE_IO";
        if (code !== "STORE_FENCED") this.writes.failed("hosts", err);
        else if (this.storeFault !== code) this.o.log.error({ err: (err as Error).message, code }, "store write refused: not the leader");
        this.storeFault = code;
      })
      .finally(() => {
        this.flushing = false;
      });
  }

  /** Write every changed host (the store makes each write atomic and durable). */
  async flushNow(): Promise<void> {
    // A standby (or a leader whose lease may be gone) writes nothing: its writes would be refused anyway.
    if (this.o.gate && !this.o.gate()) return;
    const names = [...this.dirty];
    this.dirty.clear();
    const gone = [...this.removed];
    this.removed.clear();
    try {
      for (const name of names) {
        const c = this.scheduler.hosts.get(name);
        if (!c) continue;
        this.publish(c);
        const t0 = performance.now();
        await this.store.save(this.recordOf(c));
        this.storeWriteObserver?.(performance.now() - t0);
      }
      for (const name of gone) {
        this.o.directory?.removeHost(name);
        await this.store.remove(name);
      }
    } catch (err) {
      // Nothing written is forgotten: the next pass writes it again.
      for (const n of names) if (this.scheduler.hosts.has(n)) this.dirty.add(n);
      for (const n of gone) if (!this.scheduler.hosts.has(n)) this.removed.add(n);
      throw err;
    }
  }
}
