import type { HeartbeatControl, HostCommand, HostCommandOptions, HostMessaging } from "../agent/ports.js";
import type { AlarmEvent, AlarmManager } from "../alarms/alarm-manager.js";
import type { MetalConfig } from "../config/schema.js";
import type { AdminAction, ArCause, AvailStatus } from "../inventory/host.js";
import { isAio } from "../inventory/host.js";
import type { HostRecord } from "../inventory/store.js";
import type { BmcDriver } from "../plugin-api/bmc.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import type { NetworkName } from "../transport/transport.js";
import type { EngineHost, RunState } from "./engine.js";
import type { ServiceManager } from "./service-manager.js";

/** The alarm table as the FSMs use it (the DefaultAlarmManager in production). */
export interface AlarmTable extends AlarmManager {
  isActive(id: string, hostname: string, entity?: string): boolean;
  log(id: string, hostname: string, text: string): void;
  clearHost(hostname: string): void;
}

/** BMC access for a host through the plugin contract; undefined when the host has no usable BMC. */
export interface BmcAccess {
  driverFor(host: HostRecord): BmcDriver | undefined;
}

/** Multi-node failure avoidance state shared by every host (reference §2.17). */
export interface MnfaView {
  readonly active: boolean;
  /** The host's heartbeat restarts from scratch: it no longer counts as troubled. */
  forget(hostname: string): void;
}

/** Everything a handler may use besides its own host. */
export interface MaintenanceEnv {
  clock: Clock;
  log: Logger;
  config: MetalConfig;
  messaging: HostMessaging;
  heartbeat: HeartbeatControl;
  alarms: AlarmTable;
  bmc: BmcAccess;
  sm: ServiceManager;
  /** The controller this mtcAgent runs on (THIS_HOST). */
  self: string;
  hosts(): Iterable<HostCtx>;
  host(name: string): HostCtx | undefined;
  /** Mark a host's record for the durable store. */
  persist(c: HostCtx): void;
  mnfa: MnfaView;
  /** Dead-office recovery window active (reference §2.18). */
  dorActive(): boolean;
  /** Remove a host from the inventory (delete handler's last stage). */
  removeHost(hostname: string): void;
  /** HA (issue 12): this agent took over from a peer that was watching these hosts until a lease TTL ago. */
  takeover?(): boolean;
}

export interface LastMtcAlive {
  at: number;
  uptime: number;
  flags: number;
  health: number;
  network: NetworkName;
}

export type Outcome<T = unknown> = { state: "pending" } | { state: "ok"; value: T } | { state: "fail"; error: string };

/** MTC_FLAG__* bits carried in mtcAlive (reference §4). */
export const MtcFlag = {
  Configured: 0x1,
  NotHealthy: 0x2,
  Healthy: 0x4,
  Locked: 0x8,
  SubfConfigured: 0x10,
  MainGoenabled: 0x20,
  SubfGoenabled: 0x40,
  SmDegraded: 0x80,
  Patching: 0x100,
  Patched: 0x200,
  LuksVolFailed: 0x400,
  SmUnhealthy: 0x1000,
  MainGoenableFail: 0x10000,
  SubfGoenableFail: 0x20000,
  MainServicesFail: 0x40000,
  SubfServicesFail: 0x80000,
} as const;

/**
 * One host as the FSMs see it: the durable record plus the runtime facts (last mtcAlive, goenabled result,
 * heartbeat flags) that events write and stages read.
 */
export class HostCtx implements EngineHost {
  run?: RunState;
  /** Per-run scratch of the running handler (cleared when a handler starts). */
  vars: Record<string, unknown> = {};
  private readonly launches = new Map<string, Outcome>();

  // --- facts written by events -------------------------------------------------------------------
  /** The last mtcAlive that passed the gate. */
  alive: LastMtcAlive | undefined;
  /** Per network: when the last mtcAlive arrived (gate or not), for offline/online and reset cancel. */
  readonly aliveAt = new Map<NetworkName, number>();
  /** ctl_mtcAlive_gate: while closed, mtcAlives do not count (reset, enable purge). */
  gateOpen = true;
  goenabled: { subf: boolean; passed: boolean; text?: string; at: number } | undefined;
  hostServices: { rc: number; text: string; at: number } | undefined;
  hbsClientReady = false;
  /** A heartbeat LOSS arrived since the flag was last reset (soak checks). */
  heartbeatLoss = false;
  readonly heartbeatMinor = new Set<"mgmt" | "clusterHost">();
  /** Reboot ACKs (reset cancel in recovery). */
  rebootAckAt = 0;

  // --- maintenance bookkeeping ----------------------------------------------------------------------
  readonly queue: AdminAction[] = [];
  /** While > 0 an operator request on this host is being committed: the scheduler does not step it. */
  held = 0;
  gracefulRecoveryCounter = 0;
  /** Critical-sensor power-cycles since the last lock/unlock. */
  powercycleAttempts = 0;
  /** Powered down for a persistent critical sensor: no automatic power-on until an operator acts. */
  heldPoweredDown = false;
  mnfaGracefulRecovery = false;
  offline = { active: false, count: 0, lastRequest: 0 };
  online = { windowStart: 0, misses: 0, hits: 0, lastAliveSeen: 0 };
  powerOnAt = 0;
  lastInsvTest = 0;
  unhealthyCount = 0;
  /** Last known BMC power state, from the power/reset handlers and audits. */
  power: "on" | "off" | "unknown" = "unknown";
  bmcAccessible = false;
  /** Why the last enable failed (auto-recovery cause). */
  failureCause: ArCause | undefined;

  constructor(
    public rec: HostRecord,
    readonly env: MaintenanceEnv,
  ) {}

  get name(): string {
    return this.rec.hostname;
  }
  get isSelf(): boolean {
    return this.rec.hostname === this.env.self;
  }
  get isController(): boolean {
    return this.rec.personality === "controller";
  }
  get isAio(): boolean {
    return isAio(this.rec);
  }
  get locked(): boolean {
    return this.rec.administrative === "locked";
  }
  get arDisabled(): boolean {
    // Called every pass for every host: no allocation on the common (empty) path.
    const ar = this.rec.autoRecovery;
    if (!ar) return false;
    for (const k in ar) if (ar[k]?.disabled) return true;
    return false;
  }
  get action(): AdminAction {
    return this.rec.action as AdminAction;
  }

  now(): number {
    return this.env.clock.now();
  }

  get cfg(): MetalConfig {
    return this.env.config;
  }

  onStage(handler: string, from: string, to: string): void {
    this.env.log.debug({ host: this.name, handler, from, to }, "stage");
    void from;
  }

  onStart(handler: string): void {
    this.resetRun();
    this.env.log.debug({ host: this.name, handler }, "handler start");
  }

  onError(handler: string, stage: string, err: unknown): void {
    this.env.log.error({ host: this.name, handler, stage, err: (err as Error)?.message ?? String(err) }, "handler error");
  }

  /** Post admin/oper/avail (only what changed); state changes go to the 200.022 log. */
  setState(s: { admin?: HostRecord["administrative"]; oper?: HostRecord["operational"]; avail?: AvailStatus }): void {
    const r = this.rec;
    const before = `${r.administrative}-${r.operational}-${r.availability}`;
    if (s.admin) r.administrative = s.admin;
    if (s.oper) r.operational = s.oper;
    if (s.avail) r.availability = s.avail;
    const after = `${r.administrative}-${r.operational}-${r.availability}`;
    if (before !== after) {
      this.env.alarms.log("200.022", this.name, `${this.name} is now '${after}'`);
      this.env.persist(this);
    }
  }

  setSubf(oper: "enabled" | "disabled", avail: AvailStatus): void {
    if (!this.isAio) return;
    if (this.rec.subfunctionOper === oper && this.rec.subfunctionAvail === avail) return;
    this.rec.subfunctionOper = oper;
    this.rec.subfunctionAvail = avail;
    this.env.persist(this);
  }

  setTask(task: string): void {
    if (this.rec.task === task) return;
    this.rec.task = task.slice(0, 63);
    this.env.persist(this);
  }

  setAction(action: AdminAction): void {
    if (this.rec.action === action) return;
    this.rec.action = action;
    this.env.persist(this);
  }

  /** Fire a command to the host; a missing ACK is reported through `launch`/`outcome`, never thrown here. */
  send(cmd: HostCommand, options?: HostCommandOptions): void {
    this.env.messaging.command(this.name, cmd, options).catch((err: unknown) => {
      this.env.log.debug({ host: this.name, cmd, err: (err as Error).message }, "command not acknowledged");
    });
  }

  /** Start async work whose outcome a later stage polls with `outcome(key)`. */
  launch<T>(key: string, work: () => Promise<T>): void {
    this.launches.set(key, { state: "pending" });
    let p: Promise<T>;
    try {
      p = work();
    } catch (err) {
      this.launches.set(key, { state: "fail", error: (err as Error).message });
      return;
    }
    p.then(
      (value) => {
        if (this.launches.get(key)?.state === "pending") this.launches.set(key, { state: "ok", value });
      },
      (err: unknown) => {
        if (this.launches.get(key)?.state === "pending") this.launches.set(key, { state: "fail", error: (err as Error)?.message ?? String(err) });
      },
    );
  }

  outcome<T = unknown>(key: string): Outcome<T> | undefined {
    return this.launches.get(key) as Outcome<T> | undefined;
  }

  forget(key: string): void {
    this.launches.delete(key);
  }

  /** Reset per-run scratch when a handler starts over. */
  resetRun(): void {
    this.vars = {};
    this.launches.clear();
  }

  raise(alarm: Omit<AlarmEvent, "hostname">): void {
    this.env.alarms.raise({ ...alarm, hostname: this.name });
  }

  clearAlarm(id: string, entity?: string): void {
    this.env.alarms.clear(id, this.name, entity);
  }

  /** An mtcAlive received (through the gate) at or after `t`. */
  aliveSince(t: number): LastMtcAlive | undefined {
    return this.alive && this.alive.at >= t ? this.alive : undefined;
  }

  /** Time in the current stage. */
  inStageMs(): number {
    return this.run ? this.now() - this.run.enteredAt : 0;
  }

  bmc(): BmcDriver | undefined {
    return this.env.bmc.driverFor(this.rec);
  }

  bmcProvisioned(): boolean {
    return this.bmc() !== undefined;
  }

  /** mtcalive_timeout: controller_boot_timeout or worker_boot_timeout (reference §2.4). */
  bootTimeoutMs(): number {
    const t = this.cfg.timeouts;
    return (this.isController ? t.controllerBoot : t.workerBoot) * 1000;
  }

  /** Other controllers that are unlocked-enabled (an in-service standby for self-protection and swact). */
  inServicePeerController(): HostCtx | undefined {
    for (const h of this.env.hosts()) {
      if (h !== this && h.isController && h.rec.administrative === "unlocked" && h.rec.operational === "enabled") return h;
    }
    return undefined;
  }
}
