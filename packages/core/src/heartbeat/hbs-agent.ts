/**
 * hbsAgent (reference mtce-core.md §3): runs on both controllers. Every period it sends one pulse request per
 * monitored network (multicast to 239.1.1.2, or unicast to every monitored host), takes sequence-matched
 * unicast responses, and at the end of the period counts the hosts that stayed silent. Only the active
 * controller raises alarms and sends events to the mtcAgent; both keep the cluster vault for SM.
 */
import { existsSync } from "node:fs";
import type { HeartbeatEvent, HeartbeatHost } from "../agent/ports.js";
import type { AlarmManager } from "../alarms/alarm-manager.js";
import { nodePaths } from "../config/paths.js";
import type { MetalConfig } from "../config/schema.js";
import { RateLimitedLog } from "../logging/rate-limited.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import { datagramAuthFor, PLAIN_DATAGRAMS } from "../transport/datagram-auth.js";
import type { UdpSocket } from "../transport/udp-socket.js";
import type { ClusterVault } from "../wire/cluster-vault.js";
import { controllerOfFlags, decodePulse, encodePulse, HBS_CLUE_MAX, HBS_MESSAGE_VERSION, PulseFlag, withController } from "../wire/hbs-pulse.js";
import { ClusterView } from "./cluster-view.js";
import { HbsAlarms } from "./hbs-alarms.js";
import { decodeHbsCommand, encodeHbsEvent, HBS_IFACE_LABEL, HBS_NETWORKS, type HbsCommand, type HbsNetwork } from "./hbs-messages.js";
import {
  freshPulseState,
  type MissContext,
  type MissOutcome,
  type NetworkPulseState,
  type PmondState,
  pmondFlag,
  pulseMissed,
  pulseReceived,
  type Thresholds,
} from "./miss-counting.js";
import { encodeVaultReply, parseSmRequest } from "./sm-query.js";
import { bindUdp, closeUdp, sendUdp } from "./udp.js";

/** NODE_TYPE_MASK CONTROLLER_TYPE. */
export const CONTROLLER_TYPE = 0x1;
/** Socket buffers for the pulse and command sockets (the original raises them to rmem_max too). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** At most this many event-loop turns spent reading queued responses at a period end (32 datagrams a turn). */
const MAX_DRAIN_TURNS = 1000;
/** How often the ready event is repeated while the mtcAgent has pushed no host yet. */
const READY_REPEAT_MS = 5_000;

interface MonitoredHost {
  host: HeartbeatHost;
  /** RRI: the host's stable index, sent as the request clue and echoed by the client. */
  rri: number;
  started: boolean;
  monitor: Record<HbsNetwork, boolean>;
  state: Record<HbsNetwork, NetworkPulseState>;
  pmond: PmondState;
  /** "worker-1 Mgmnt", for logs and cluster-change reasons. */
  label: Record<HbsNetwork, string>;
  /** The miss-counting context per network (kept, not rebuilt per pulse; `active` follows ACTIVE_CTRL). */
  ctx: Record<HbsNetwork, MissContext>;
}

export interface HbsAgentOptions {
  config: MetalConfig;
  clock: Clock;
  logger: Logger;
  alarms: AlarmManager;
}

/** Controller number from the hostname (controller-0 / controller-1); anything else is 0. */
export function controllerNumber(hostname: string): number {
  const m = /^controller-(\d)$/.exec(hostname);
  return m ? Number(m[1]) & 0x3 : 0;
}

export class HbsAgent {
  readonly hostname: string;
  readonly controller: number;
  private readonly cfg: MetalConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly bad: RateLimitedLog;
  private readonly alarms: HbsAlarms;
  private readonly view: ClusterView;
  private readonly hosts = new Map<string, MonitoredHost>();
  private readonly byAddress: Record<HbsNetwork, Map<string, MonitoredHost>> = { mgmt: new Map(), clusterHost: new Map() };
  private readonly pulseSock: Partial<Record<HbsNetwork, UdpSocket>> = {};
  private cmdSock?: UdpSocket;
  private smSock?: UdpSocket;
  private eventSock?: UdpSocket;
  private readonly expected: Record<HbsNetwork, Set<MonitoredHost>> = { mgmt: new Set(), clusterHost: new Set() };
  private nextRri = 1;
  private clueIndex = 0;
  /** Started hosts whose name fits the clue field (< 32 bytes), rebuilt when the monitored set changes. */
  private clueList: MonitoredHost[] = [];
  private seq = 1;
  private periodTimer?: TimerHandle;
  private periodDue?: number;
  private readyTimer?: TimerHandle;
  private active = false;
  private backedOff = false;
  private locked = false;
  private lastSmHeartbeat: number;
  private running = false;
  /** Datagrams read from the pulse sockets (the period end reads until this stops moving). */
  private datagrams = 0;
  private readonly lockedFile: string;
  private readonly thresholds: Thresholds;
  /** Counters for the bench and tests: requests sent, responses matched, per network. */
  readonly stats = { requests: 0, responses: 0, periods: 0, badDatagrams: 0 };

  constructor(options: HbsAgentOptions) {
    this.cfg = options.config;
    this.clock = options.clock;
    this.hostname = options.config.node.hostname;
    this.controller = controllerNumber(this.hostname);
    this.log = options.logger.child({ svc: "hbsAgent" });
    this.bad = new RateLimitedLog(this.log, this.clock);
    this.alarms = new HbsAlarms(options.alarms);
    this.view = new ClusterView(this.controller, options.config.heartbeat.periodMs);
    this.lastSmHeartbeat = this.clock.now();
    this.lockedFile = nodePaths(options.config.root).nodeLocked;
    const hb = options.config.heartbeat;
    this.thresholds = {
      minor: Math.min(hb.minorThreshold, hb.degradeThreshold), // minor is clamped to <= degrade
      degrade: hb.degradeThreshold,
      failure: hb.failureThreshold,
      failureAction: hb.failureAction,
    };
  }

  get periodMs(): number {
    return this.cfg.heartbeat.periodMs * (this.backedOff ? this.cfg.heartbeat.backoffFactor : 1);
  }

  get isActive(): boolean {
    return this.active;
  }

  /** The networks this controller heartbeats on: mgmt, and cluster-host when it has an address there. */
  get networks(): HbsNetwork[] {
    return this.cfg.networks.clusterHost?.address ? ["mgmt", "clusterHost"] : ["mgmt"];
  }

  private address(network: HbsNetwork): string {
    const a = network === "mgmt" ? this.cfg.networks.mgmt.address : this.cfg.networks.clusterHost?.address;
    return a ?? "127.0.0.1";
  }

  private agentPort(network: HbsNetwork): number {
    return network === "mgmt" ? this.cfg.ports.hbsAgentMgmt : this.cfg.ports.hbsAgentClstr;
  }

  private clientPort(network: HbsNetwork): number {
    return network === "mgmt" ? this.cfg.ports.hbsClientMgmt : this.cfg.ports.hbsClientClstr;
  }

  async start(): Promise<void> {
    const hb = this.cfg.heartbeat;
    const auth = datagramAuthFor(this.cfg, this.log);
    for (const n of this.networks) {
      const sock = await bindUdp(this.address(n), this.agentPort(n), {
        auth,
        label: `hbsAgent pulse ${n}`,
        bufferBytes: SOCKET_BUFFER_BYTES,
        onMessage: (data, rinfo) => this.onResponse(n, data, rinfo.address),
      });
      if (hb.mode === "multicast") {
        sock.setMulticastInterface(this.address(n));
        sock.setMulticastTTL(1);
      }
      sock.onError((err) => this.bad.warn(`sock-${n}`, { err: err.message }, "pulse socket error"));
      this.pulseSock[n] = sock;
    }
    this.cmdSock = await bindUdp(this.address("mgmt"), this.cfg.ports.hbsCmd, {
      auth,
      label: "hbsAgent cmd",
      bufferBytes: SOCKET_BUFFER_BYTES,
      onMessage: (data, rinfo) => this.onCommand(data, rinfo.address),
    });
    // SM is not part of metal: its loopback query speaks the original format, keyed or not.
    this.smSock = await bindUdp("127.0.0.1", this.cfg.ports.smServer, {
      auth: PLAIN_DATAGRAMS,
      label: "hbsAgent sm",
      onMessage: (data) => this.onSmRequest(data),
    });
    this.eventSock = await bindUdp(this.address("mgmt"), 0, { auth, label: "hbsAgent event" });
    this.running = true;
    this.log.info({ controller: this.controller, networks: this.networks, mode: hb.mode, periodMs: this.periodMs }, "hbsAgent started");
    this.sendReady();
    this.scheduleStart(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.periodTimer);
    this.clock.clearTimeout(this.readyTimer);
    for (const n of HBS_NETWORKS) await closeUdp(this.pulseSock[n]);
    await closeUdp(this.cmdSock);
    await closeUdp(this.smSock);
    await closeUdp(this.eventSock);
  }

  /** The vault as SM would get it. */
  clusterVault(reqid = 0): ClusterVault {
    return this.view.snapshot(reqid);
  }

  /** Apply an mtcAgent command (exposed for in-process use; the UDP path decodes into this). */
  apply(cmd: HbsCommand): void {
    switch (cmd.kind) {
      case "addHost":
        this.addHost(cmd.host);
        return;
      case "delHost":
        this.delHost(cmd.hostname);
        return;
      case "startHost":
        this.setStarted(cmd.hostname, true);
        return;
      case "stopHost":
        this.setStarted(cmd.hostname, false);
        return;
      case "restartHost":
        this.restartHost(cmd.hostname);
        return;
      case "backoff":
      case "recover": {
        const backoff = cmd.kind === "backoff";
        if (this.backedOff !== backoff) {
          this.backedOff = backoff;
          this.view.setPeriod(this.periodMs, cmd.kind);
          this.log.info({ periodMs: this.periodMs }, backoff ? "heartbeat backoff (MNFA)" : "heartbeat period recovered");
        }
        return;
      }
      case "activeController": {
        const active = cmd.hostname === this.hostname;
        if (active !== this.active) this.log.info({ active }, active ? "this controller is active" : "this controller is inactive");
        this.active = active;
        for (const h of this.hosts.values()) for (const n of HBS_NETWORKS) h.ctx[n].active = active;
        return;
      }
    }
  }

  private addHost(host: HeartbeatHost): void {
    const existing = this.hosts.get(host.hostname);
    if (existing) this.unindex(existing);
    const m: MonitoredHost = existing ?? {
      host,
      rri: this.nextRri++,
      started: false,
      monitor: { mgmt: false, clusterHost: false },
      state: { mgmt: freshPulseState(), clusterHost: freshPulseState() },
      pmond: { missing: 0, degraded: false },
      label: { mgmt: `${host.hostname} ${HBS_IFACE_LABEL.mgmt}`, clusterHost: `${host.hostname} ${HBS_IFACE_LABEL.clusterHost}` },
      ctx: { mgmt: this.missContext(host, "mgmt"), clusterHost: this.missContext(host, "clusterHost") },
    };
    m.host = host;
    m.ctx = { mgmt: this.missContext(host, "mgmt"), clusterHost: this.missContext(host, "clusterHost") };
    this.hosts.set(host.hostname, m);
    this.byAddress.mgmt.set(host.mgmtIp, m);
    if (host.clusterHostIp) this.byAddress.clusterHost.set(host.clusterHostIp, m);
    this.log.info({ host: host.hostname, mgmt: host.mgmtIp, clstr: host.clusterHostIp }, "host added");
  }

  private unindex(m: MonitoredHost): void {
    if (this.byAddress.mgmt.get(m.host.mgmtIp) === m) this.byAddress.mgmt.delete(m.host.mgmtIp);
    if (m.host.clusterHostIp && this.byAddress.clusterHost.get(m.host.clusterHostIp) === m) this.byAddress.clusterHost.delete(m.host.clusterHostIp);
  }

  private delHost(hostname: string): void {
    const m = this.hosts.get(hostname);
    if (!m) return;
    this.setStarted(hostname, false);
    this.unindex(m);
    this.hosts.delete(hostname);
    this.alarms.clearAll(hostname);
    this.log.info({ host: hostname }, "host deleted");
  }

  private setStarted(hostname: string, started: boolean): void {
    const m = this.hosts.get(hostname);
    if (!m) {
      this.bad.warn(`unknown-${hostname}`, { host: hostname }, "heartbeat command for an unknown host");
      return;
    }
    if (hostname === this.hostname) return; // a controller does not heartbeat itself
    if (m.started === started) return;
    m.started = started;
    m.monitor.mgmt = started;
    if (!started) m.monitor.clusterHost = false;
    // A start or stop is a fresh beginning: no miss history carries over.
    for (const n of HBS_NETWORKS) {
      m.state[n] = freshPulseState();
      this.expected[n].delete(m);
    }
    m.pmond = { missing: 0, degraded: false };
    if (!started) this.alarms.clearAll(hostname);
    this.refreshMonitored();
    this.log.info({ host: hostname }, started ? "heartbeat started" : "heartbeat stopped");
  }

  /**
   * MTC_RESTART_HBS (MNFA / graceful recovery): count afresh, telling the mtcAgent the minor and degrade it knew
   * of are over. The alarm is kept, so the next pulse clears it.
   */
  private restartHost(hostname: string): void {
    const m = this.hosts.get(hostname);
    if (!m || hostname === this.hostname) return;
    for (const n of HBS_NETWORKS) {
      const was = m.state[n];
      if (this.active && was.minor) this.sendEvent({ kind: "minorClear", hostname, network: n, from: this.hostname });
      if (this.active && was.degrade) this.sendEvent({ kind: "degradeClear", hostname, network: n, from: this.hostname });
      m.state[n] = { ...freshPulseState(), alarm: was.alarm };
    }
    this.log.info({ host: hostname }, "heartbeat restart");
  }

  private refreshMonitored(): void {
    let count = 0;
    let storage0 = false;
    let peer = false;
    for (const m of this.hosts.values()) {
      if (!m.started) continue;
      count++;
      if (m.host.hostname === "storage-0") storage0 = true;
      if (m.host.hostname === `controller-${this.controller ? 0 : 1}`) peer = true;
    }
    this.view.peerEnabled = peer;
    this.view.setMonitored(count, storage0);
    this.clueList = [...this.hosts.values()].filter((m) => m.started && Buffer.byteLength(m.host.hostname, "latin1") < HBS_CLUE_MAX);
  }

  /** Heartbeat commands come from an mtcAgent: loopback, a controller address of the config, or `security.controllers`. */
  private fromController(from: string): boolean {
    const c = this.cfg;
    if (from === "127.0.0.1" || from === "::1" || c.security.controllers.includes(from)) return true;
    if (c.heartbeat.agents.some((a) => a.address === from)) return true;
    return [c.networks.mgmt, c.networks.clusterHost].some((n) => n?.controller === from || n?.address === from);
  }

  private onCommand(data: Buffer, from: string): void {
    if (!this.fromController(from)) {
      this.stats.badDatagrams++;
      this.bad.warn(`cmd-src-${from}`, { from }, "dropped a heartbeat command from an address that is not a controller");
      return;
    }
    const d = decodeHbsCommand(data);
    if (!d.ok) {
      this.stats.badDatagrams++;
      this.bad.warn(`cmd-${from}`, { from, reason: d.reason }, "dropped a bad heartbeat command");
      return;
    }
    this.apply(d.value);
  }

  private onSmRequest(data: Buffer): void {
    const r = parseSmRequest(data);
    if (!r.ok) {
      this.stats.badDatagrams++;
      this.bad.warn("sm", { reason: r.reason }, "dropped a bad SM request");
      return;
    }
    if (r.reqid === 0) {
      this.lastSmHeartbeat = this.clock.now();
      return;
    }
    this.sendVaultToSm(r.reqid);
  }

  private sendVaultToSm(reqid: number): void {
    if (!this.smSock) return;
    sendUdp(this.smSock, encodeVaultReply(this.view.snapshot(reqid)), this.cfg.ports.smClient, "127.0.0.1", (err) =>
      this.bad.warn("sm-send", { err: err.message }, "cannot send the cluster vault to SM"),
    );
  }

  private sendEvent(e: HeartbeatEvent): void {
    if (!this.eventSock) return;
    const to = this.cfg.networks.mgmt.controller ?? "127.0.0.1";
    sendUdp(this.eventSock, encodeHbsEvent(e), this.cfg.ports.hbsEvent, to, (err) =>
      this.bad.warn("event-send", { err: err.message, to }, "cannot send an event to the mtcAgent"),
    );
    if (e.kind !== "ready") this.log.info({ host: e.hostname, network: e.network, event: e.kind }, "heartbeat event");
  }

  private sendReady(): void {
    if (!this.running) return;
    this.sendEvent({ kind: "ready", hostname: this.hostname, network: "mgmt", from: this.hostname });
    // Repeat until the mtcAgent has pushed its inventory.
    if (this.hosts.size === 0) this.readyTimer = this.clock.setTimeout(() => this.sendReady(), READY_REPEAT_MS);
  }

  private scheduleStart(delay: number): void {
    if (!this.running) return;
    this.periodTimer = this.clock.setTimeout(() => this.periodStart(), delay);
  }

  /** Period start: load the expected list per network and send the requests. */
  private periodStart(): void {
    if (!this.running) return;
    this.view.periodStart();
    const clue = this.nextClue();
    const unicast = this.cfg.heartbeat.mode === "unicast";
    for (const n of this.networks) {
      const exp = this.expected[n];
      exp.clear();
      for (const m of this.hosts.values()) if (m.monitor[n]) exp.add(m);
      const sock = this.pulseSock[n];
      if (!sock) continue;
      const req = encodePulse({
        kind: "req",
        host: clue?.host.hostname ?? "",
        seq: this.seq,
        rri: clue?.rri ?? 0,
        flags: withController(0, this.controller),
        version: HBS_MESSAGE_VERSION,
        cluster: this.view.ownHistories(),
      });
      const onErr = (err: Error) => this.bad.warn(`send-${n}`, { err: err.message, network: n }, "cannot send a pulse request");
      if (unicast) {
        for (const m of exp) {
          const to = n === "mgmt" ? m.host.mgmtIp : m.host.clusterHostIp;
          if (to) sendUdp(sock, req, this.clientPort(n), to, onErr);
        }
        // The controller's own hbsClient answers too: its flags tell this agent about itself.
      } else {
        sendUdp(sock, req, this.clientPort(n), this.cfg.heartbeat.multicastGroup, onErr);
      }
      this.stats.requests++;
    }
    // Periods sit on a fixed grid, so the time spent handling one never stretches the next.
    const now = this.clock.now();
    this.periodDue = this.periodDue !== undefined && this.periodDue > now - this.periodMs ? this.periodDue + this.periodMs : now + this.periodMs;
    this.periodTimer = this.clock.setTimeout(() => this.periodEnd(), Math.max(0, this.periodDue - now));
  }

  /** One clue host per request, in rotation (the client caches the RRI it is given). */
  private nextClue(): MonitoredHost | undefined {
    const list = this.clueList;
    if (!list.length) return undefined;
    this.clueIndex = (this.clueIndex + 1) % list.length;
    return list[this.clueIndex];
  }

  private onResponse(network: HbsNetwork, data: Buffer, from: string): void {
    this.datagrams++;
    const d = decodePulse(data);
    if (!d.ok || d.pulse.kind !== "rsp") {
      this.stats.badDatagrams++;
      this.bad.warn(`rsp-${network}-${from}`, { from, network, reason: d.ok ? "a request, not a response" : d.reason }, "dropped a bad pulse");
      return;
    }
    const p = d.pulse;
    // A response meant for the other controller (multicast reaches both) is not ours.
    if (controllerOfFlags(p.flags) !== this.controller) return;
    const m = this.byAddress[network].get(from);
    if (!m) {
      // Normal with multicast: every client answers, including hosts the mtcAgent has not handed over (yet).
      if (from !== this.address(network)) this.log.debug({ from, network }, "pulse response from a host not in the heartbeat inventory");
      return;
    }
    if (!m.monitor[network] || p.seq !== this.seq || !this.expected[network].delete(m)) return;
    this.stats.responses++;
    if (network === "mgmt") this.managePulseFlags(m, p.flags);
    this.apply$(m, network, pulseReceived(m.state[network], m.ctx[network], m.label[network]));
    if (p.cluster) this.view.savePeer(p.cluster);
  }

  /** The client's flags: cluster-host monitoring follows CLSTR_FLAG in mgmt responses; pmond health. */
  private managePulseFlags(m: MonitoredHost, flags: number): void {
    if (flags & PulseFlag.CLSTR && m.host.clusterHostIp && this.networks.includes("clusterHost") && !m.monitor.clusterHost) {
      m.monitor.clusterHost = true;
      m.state.clusterHost = freshPulseState();
    }
    const r = pmondFlag(m.pmond, (flags & PulseFlag.PMOND) !== 0, this.active);
    if (r === "raise") {
      this.alarms.pmond(m.host.hostname, true);
      this.sendEvent({ kind: "pmondRaise", hostname: m.host.hostname, network: "mgmt", from: this.hostname });
    } else if (r === "clear") {
      this.alarms.pmond(m.host.hostname, false);
      this.sendEvent({ kind: "pmondClear", hostname: m.host.hostname, network: "mgmt", from: this.hostname });
    }
  }

  private missContext(host: HeartbeatHost, network: HbsNetwork): MissContext {
    const hb = this.cfg.heartbeat;
    const degradeOnly =
      network === "clusterHost" && ((this.cfg.system.type === "standard" && (host.nodeType & CONTROLLER_TYPE) !== 0) || hb.clusterHostDegradeOnly);
    return { thresholds: this.thresholds, active: this.active, degradeOnly };
  }

  private apply$(m: MonitoredHost, network: HbsNetwork, out: MissOutcome): void {
    if (out.change) this.view.change(out.change);
    if (out.alarm) this.alarms.heartbeat(m.host.hostname, network, out.alarm);
    for (const kind of out.events) this.sendEvent({ kind, hostname: m.host.hostname, network, from: this.hostname });
  }

  /** Period end: take attendance, update the vault, notify SM of changes, start the next period. */
  /**
   * The period timer fired. Node runs timers before it reads sockets, so on a busy loop this period's responses
   * may still sit in the socket buffers: read until a loop turn brings none (bounded), then take attendance.
   */
  private periodEnd(): void {
    let seen = this.datagrams;
    let turns = 0;
    const settle = () => {
      if (!this.running) return;
      if (this.datagrams !== seen && turns++ < MAX_DRAIN_TURNS) {
        seen = this.datagrams;
        setImmediate(settle);
        return;
      }
      this.takeAttendance();
    };
    setImmediate(settle);
  }

  private takeAttendance(): void {
    this.stats.periods++;
    const smOk = this.clock.now() - this.lastSmHeartbeat <= this.cfg.heartbeat.smHeartbeatLossMs;
    this.checkLocked();
    this.view.peerPeriodEnd();
    for (const n of this.networks) {
      let storage0Responding = true;
      const lost = [...this.expected[n]];
      this.expected[n].clear();
      for (const m of lost) {
        if (m.host.hostname === "storage-0") storage0Responding = false;
        this.apply$(m, n, pulseMissed(m.state[n], n, m.ctx[n], m.label[n]));
      }
      if (!this.locked) this.view.update(n, lost.length, storage0Responding, smOk);
    }
    const changes = this.view.takeChanges();
    if (changes) {
      this.log.debug({ reason: changes }, "cluster change");
      this.sendVaultToSm(0);
    }
    this.seq = (this.seq + 1) >>> 0 || 1;
    this.scheduleStart(0);
  }

  /** History stops while this controller is locked (/var/run/.node_locked). */
  private checkLocked(): void {
    const locked = existsSync(this.lockedFile);
    if (locked && !this.locked) this.view.lock();
    this.locked = locked;
  }
}
