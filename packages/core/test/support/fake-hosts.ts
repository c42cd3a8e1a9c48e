/**
 * In-process fakes of the two ports the FSMs talk through (HostMessaging, HeartbeatControl), with simulated
 * hosts that answer commands, reboot in simulated time and send mtcAlive — for virtual-time FSM tests.
 */
import type { HeartbeatControl, HeartbeatEvent, HeartbeatHost, HostCommand, HostCommandOptions, HostMessage, HostMessaging } from "../../src/agent/ports.js";
import { MtcFlag } from "../../src/fsm/host-context.js";
import type { Clock, TimerHandle } from "../../src/plugin-api/services.js";
import type { FakeBmcFabric } from "../../src/testing/fake-bmc.js";

export interface FakeHostOptions {
  bootMs?: number;
  up?: boolean;
  bmcAddress?: string;
}

export class FakeHost {
  up = true;
  bootedAt = 0;
  bootMs = 60_000;
  boots = 0;
  /** Fault knobs. */
  configured = true;
  healthy = true;
  goenabledPass = true;
  subfGoenabledPass = true;
  servicesPass = true;
  ackCommands = true;
  /** Ignore reboot/reset commands (a hung host: only the BMC can reset it). */
  ignoreReboot = false;
  subfConfigured = true;
  answersHeartbeat = true;
  /** Node-locked flag files. */
  nodeLocked = false;
  nodeLockedPersist = false;
  readonly commands: HostCommand[] = [];
  /** Every command sent to the host, answered or not. */
  readonly attempts: HostCommand[] = [];
  seq = 0;
  aliveTimer: TimerHandle | undefined;
  bootTimer: TimerHandle | undefined;
  downSince = 0;
  lossReported = false;
  constructor(readonly name: string) {}
}

export class FakeFabric implements HostMessaging, HeartbeatControl {
  readonly hosts = new Map<string, FakeHost>();
  private readonly msgListeners = new Set<(m: HostMessage) => void>();
  private readonly hbListeners = new Set<(e: HeartbeatEvent) => void>();
  readonly monitored = new Set<string>();
  readonly hbCalls: string[] = [];
  backedOff = false;
  private readonly watch: TimerHandle;

  constructor(
    private readonly clock: Clock,
    private readonly self: string,
    private readonly bmc?: FakeBmcFabric,
  ) {
    // The hbsAgent side: a monitored host that stopped answering for 1 s is a LOSS.
    this.watch = clock.setInterval(() => this.heartbeatAudit(), 100);
  }

  dispose(): void {
    this.clock.clearInterval(this.watch);
    for (const h of this.hosts.values()) {
      this.clock.clearInterval(h.aliveTimer);
      this.clock.clearTimeout(h.bootTimer);
    }
  }

  add(name: string, o: FakeHostOptions = {}): FakeHost {
    const h = new FakeHost(name);
    if (o.bootMs !== undefined) h.bootMs = o.bootMs;
    this.hosts.set(name, h);
    if (this.bmc && o.bmcAddress) {
      const m = this.bmc.machine(o.bmcAddress);
      m.power = o.up === false ? "off" : "on";
      m.onPower = (state, action) => {
        if (state === "off") this.down(h);
        else if (action === "reset" || action === "cycle" || !h.up) this.reboot(h, h.bootMs);
      };
    }
    if (o.up === false) h.up = false;
    else this.startAlive(h);
    return h;
  }

  host(name: string): FakeHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no fake host ${name}`);
    return h;
  }

  // --- HostMessaging ------------------------------------------------------------------------------
  async command(hostname: string, cmd: HostCommand, options: HostCommandOptions = {}): Promise<number | undefined> {
    const h = this.hosts.get(hostname);
    const expectAck = options.expectAck ?? true;
    const timeout = options.timeoutMs ?? 10_000;
    h?.attempts.push(cmd);
    if (!h?.up || !h.ackCommands) {
      if (!expectAck) return undefined;
      await this.clock.sleep(timeout);
      throw new Error(`${hostname}: no ACK for ${cmd}`);
    }
    h.commands.push(cmd);
    this.execute(h, cmd, options);
    return expectAck ? 0 : undefined;
  }

  onMessage(listener: (m: HostMessage) => void): () => void {
    this.msgListeners.add(listener);
    return () => this.msgListeners.delete(listener);
  }

  // --- HeartbeatControl ---------------------------------------------------------------------------
  addHost(host: HeartbeatHost): void {
    this.hbCalls.push(`add ${host.hostname}`);
  }
  delHost(hostname: string): void {
    this.hbCalls.push(`del ${hostname}`);
    this.monitored.delete(hostname);
  }
  startHost(hostname: string): void {
    this.hbCalls.push(`start ${hostname}`);
    this.monitored.add(hostname);
    const h = this.hosts.get(hostname);
    if (h) h.lossReported = false;
  }
  stopHost(hostname: string): void {
    this.hbCalls.push(`stop ${hostname}`);
    this.monitored.delete(hostname);
  }
  backoff(): void {
    this.backedOff = true;
  }
  recover(): void {
    this.backedOff = false;
  }
  activeController(): void {}
  onEvent(listener: (e: HeartbeatEvent) => void): () => void {
    this.hbListeners.add(listener);
    return () => this.hbListeners.delete(listener);
  }

  emitHeartbeat(kind: HeartbeatEvent["kind"], hostname: string, network: "mgmt" | "clusterHost" = "mgmt"): void {
    for (const l of this.hbListeners) l({ kind, hostname, network, from: this.self });
  }

  /** An event from one of the host's daemons (hwmon, collectd), as the agent inbox would deliver it. */
  emitEvent(hostname: string, code: number, service = "hwmond", payload: Record<string, unknown> = {}): void {
    this.emit({ kind: "event", hostname, code, service, payload });
  }

  // --- the simulated hosts ------------------------------------------------------------------------
  /** Power loss / crash: the host stops answering until revived. */
  kill(name: string): void {
    this.down(this.host(name));
  }

  revive(name: string): void {
    const h = this.host(name);
    if (!h.up) this.reboot(h, 0);
  }

  flags(h: FakeHost): number {
    let f = 0;
    if (h.configured) f |= MtcFlag.Configured;
    f |= h.healthy ? MtcFlag.Healthy : MtcFlag.NotHealthy;
    if (h.nodeLocked) f |= MtcFlag.Locked;
    if (h.subfConfigured) f |= MtcFlag.SubfConfigured;
    return f;
  }

  sendAlive(h: FakeHost): void {
    if (!h.up) return;
    this.emit({
      kind: "mtcAlive",
      hostname: h.name,
      network: "mgmt",
      address: "127.0.0.1",
      uptime: Math.floor((this.clock.now() - h.bootedAt) / 1000),
      flags: this.flags(h),
      health: h.healthy ? 1 : 2,
      sequence: ++h.seq,
    });
  }

  emit(m: HostMessage): void {
    for (const l of this.msgListeners) l(m);
  }

  private later(ms: number, fn: () => void): void {
    this.clock.setTimeout(fn, ms);
  }

  private execute(h: FakeHost, cmd: HostCommand, o: HostCommandOptions): void {
    switch (cmd) {
      case "reboot":
      case "reset":
      case "wipedisk":
        if (!h.ignoreReboot) this.later(500, () => this.reboot(h, h.bootMs));
        return;
      case "lazyReboot":
        this.later((o.parms?.[0] ?? 15) * 1000, () => this.reboot(h, h.bootMs));
        return;
      case "reqMtcAlive":
        this.later(10, () => this.sendAlive(h));
        return;
      case "reqMainGoenabled":
      case "reqSubfGoenabled":
        this.later(2_000, () => {
          if (!h.up) return;
          const passed = cmd === "reqSubfGoenabled" ? h.subfGoenabledPass : h.goenabledPass;
          this.emit({ kind: "goenabled", hostname: h.name, subfunction: cmd === "reqSubfGoenabled", passed, ...(passed ? {} : { text: "test.sh (rc:1)" }) });
        });
        return;
      case "locked":
        h.nodeLocked = true;
        h.nodeLockedPersist = (o.parms?.[0] ?? 0) > 0;
        return;
      case "unlocked":
        h.nodeLocked = false;
        h.nodeLockedPersist = false;
        return;
      case "stopControlServices":
      case "stopWorkerServices":
      case "stopStorageServices":
      case "startControlServices":
      case "startWorkerServices":
      case "startStorageServices":
        this.later(1_000, () =>
          this.emit({
            kind: "hostServicesResult",
            hostname: h.name,
            rc: h.servicesPass ? 0 : 1,
            text: h.servicesPass ? "pass" : "worker start failed: vswitch (rc:4)",
          }),
        );
        return;
      default:
        return;
    }
  }

  private startAlive(h: FakeHost): void {
    h.up = true;
    h.bootedAt = this.clock.now();
    h.boots++;
    // The persistent lock file restores the volatile one at boot (reference §5).
    h.nodeLocked = h.nodeLockedPersist;
    this.clock.clearInterval(h.aliveTimer);
    this.later(1_000, () => this.sendAlive(h));
    h.aliveTimer = this.clock.setInterval(() => this.sendAlive(h), 5_000);
    this.later(2_000, () => {
      if (h.up) this.emit({ kind: "monitorReady", hostname: h.name, service: "hbsClient", payload: {} });
    });
  }

  private down(h: FakeHost): void {
    h.up = false;
    h.downSince = this.clock.now();
    this.clock.clearInterval(h.aliveTimer);
    this.clock.clearTimeout(h.bootTimer);
  }

  private reboot(h: FakeHost, bootMs: number): void {
    this.down(h);
    h.bootTimer = this.clock.setTimeout(() => this.startAlive(h), bootMs);
  }

  private heartbeatAudit(): void {
    const now = this.clock.now();
    for (const name of this.monitored) {
      const h = this.hosts.get(name);
      if (!h || h.lossReported) continue;
      const silent = !h.up || !h.answersHeartbeat;
      if (!silent) continue;
      if (h.up && !h.answersHeartbeat && h.downSince < h.bootedAt) h.downSince = now;
      if (now - h.downSince >= 1_000) {
        h.lossReported = true;
        this.emitHeartbeat("loss", name);
      }
    }
  }
}
