import type { AlarmManager } from "../alarms/alarm-manager.js";
import { type MetalConfig, messagingTimers } from "../config/schema.js";
import { lockPersistParm } from "../config/simplex.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import { clientPort } from "../transport/mtc-ports.js";
import { NETWORK_LABEL, type NetworkName, type Transport } from "../transport/transport.js";
import { mtcCodeName } from "../wire/mtc-codes.js";
import { MtcFlag } from "../wire/mtc-flags.js";
import { encodeMtcMessage, type MtcMessage, mtcMessage, Signature } from "../wire/mtc-message.js";
import { AgentInbox, type InboxSink } from "./inbox.js";
import { HOST_COMMANDS } from "./messaging-commands.js";
import { HostAddressBook, type HostEntry, type MessagingHost } from "./messaging-hosts.js";
import { readPxebootHints } from "./messaging-pxeboot-addresses.js";
import { PxebootMonitor } from "./messaging-pxeboot-monitor.js";
import type { HostCommand, HostCommandOptions, HostMessage, HostMessaging } from "./ports.js";

export type { MessagingHost } from "./messaging-hosts.js";

export interface AgentMessagingDeps {
  config: MetalConfig;
  transport: Transport;
  clock: Clock;
  logger: Logger;
  alarms: AlarmManager;
}

/** A command that got no ACK in time. */
export class CommandTimeoutError extends Error {
  override readonly name = "CommandTimeoutError";
}

interface Waiter {
  resolve(rc: number): void;
  reject(err: Error): void;
}

/**
 * The agent side of maintenance messaging: `HostMessaging` over the 1060-byte mtc message on UDP.
 *
 * Use (the agent's wiring, once per process):
 * ```ts
 * const messaging = new AgentMessaging({ config, transport: new UdpTransport(), clock, logger, alarms });
 * await messaging.start();                               // binds mgmt (+ cluster-host, pxeboot when configured)
 * messaging.setHost({ hostname, mgmtIp, mgmtMac, administrative: "locked" });   // on add / modify, from inventory
 * messaging.onMessage((m) => fsm.handle(m));              // mtcAlive, goenabled, host services results, events
 * const rc = await messaging.command("worker-0", "reboot", { network: "all" }); // rejects with CommandTimeoutError
 * messaging.watchPxeboot("worker-0", true);               // unlocked-enabled hosts: the 200.003 monitor
 * messaging.resetSequences("worker-0");                   // the host went offline
 * ```
 * Commands carry the host's mgmt MAC at hdr[17] (the client drops commands for another MAC). ACKs are matched
 * by host (source address on the network) and command code. Addresses on cluster-host and pxeboot are learned
 * from mtcAlive. When `administrative` is set, every mtcAlive is audited against it and LOCKED/UNLOCKED is
 * re-asserted, so a removed or stray node-locked file is corrected within one mtcAlive period.
 */
export class AgentMessaging implements HostMessaging {
  readonly hosts = new HostAddressBook();
  readonly inbox: AgentInbox;
  readonly pxeboot: PxebootMonitor;
  private readonly listeners = new Set<(m: HostMessage) => void>();
  private readonly pending = new Map<string, Set<Waiter>>();
  private readonly lastAudit = new Map<string, number>();
  private readonly timers: ReturnType<typeof messagingTimers>;
  private readonly log: Logger;
  private learnTimer: TimerHandle | undefined;

  constructor(private readonly deps: AgentMessagingDeps) {
    this.log = deps.logger;
    this.timers = messagingTimers(deps.config);
    const sink: InboxSink = {
      message: (m) => this.emit(m),
      ack: (host, network, msg) => this.settleAck(host, network, msg),
      alive: (host, network, flags, sequence) => this.afterAlive(host, network, flags, sequence),
    };
    this.inbox = new AgentInbox(deps.config, deps.transport, deps.clock, deps.logger, this.hosts, sink);
    this.pxeboot = new PxebootMonitor(
      {
        periodMs: this.timers.pxebootMonitorPeriodMs,
        lossThreshold: deps.config.messaging.pxebootLossThreshold,
        alarmThreshold: deps.config.messaging.pxebootLossAlarmThreshold,
      },
      deps.clock,
      deps.alarms,
      deps.logger,
      (hostname) => this.fireAndForget(hostname, "reqMtcAlive", { network: "pxeboot" }),
      (m) => this.emit(m),
      (hostname) => this.inbox.endpoint("pxeboot") !== undefined && this.hosts.get(hostname)?.pxebootFeature === true,
    );
  }

  async start(): Promise<void> {
    await this.inbox.start();
    this.pxeboot.start();
    await this.learnPxebootAddresses();
    this.learnTimer = this.deps.clock.setInterval(() => {
      this.learnPxebootAddresses().catch((err: Error) => this.log.warn({ err: err.message }, "pxeboot address learning failed"));
    }, this.timers.pxebootMonitorPeriodMs);
  }

  /**
   * pxeboot address learning from the DHCP server (dnsmasq leases and host entries), by the host's mgmt MAC
   * or hostname. An address seen on a pxeboot mtcAlive wins; these fill in hosts not heard from there yet.
   * Returns the hosts that learned an address.
   */
  async learnPxebootAddresses(): Promise<string[]> {
    const m = this.deps.config.messaging;
    if (!m.dnsmasqLeases && m.dnsmasqHosts.length === 0) return [];
    const hints = await readPxebootHints({ leases: m.dnsmasqLeases, hosts: m.dnsmasqHosts });
    const learned: string[] = [];
    for (const host of this.hosts.all()) {
      if (host.pxebootIp || host.sequence.pxeboot > 0) continue;
      const mac = host.mgmtMac?.toLowerCase();
      const hint = hints.find((h) => (mac && h.mac === mac) || h.hostname === host.hostname);
      if (hint && this.hosts.learn(host, "pxeboot", hint.ip)) {
        learned.push(host.hostname);
        this.log.info({ host: host.hostname, address: hint.ip, source: hint.source }, "learned pxeboot address from dnsmasq");
      }
    }
    return learned;
  }

  async stop(): Promise<void> {
    this.pxeboot.stop();
    this.deps.clock.clearInterval(this.learnTimer);
    for (const [key, waiters] of this.pending) for (const w of waiters) w.reject(new Error(`${key}: messaging stopped`));
    this.pending.clear();
    await this.inbox.stop();
  }

  /** Add a host or update what messaging knows about it (addresses, MAC, admin state). */
  setHost(host: MessagingHost): void {
    this.hosts.set(host);
  }

  removeHost(hostname: string): void {
    this.pxeboot.unwatch(hostname);
    this.hosts.remove(hostname);
  }

  /** What messaging knows and learned about a host (addresses, MAC, last sequence per network). */
  host(hostname: string): Readonly<HostEntry> | undefined {
    return this.hosts.get(hostname);
  }

  /**
   * Turn the pxeboot mtcAlive monitor on or off for a host (maintenance: unlocked-enabled hosts not in
   * unlock/enable/recovery/powercycle). Off clears its 200.003 alarm. Hosts whose client has not advertised
   * the `pxeboot_mtcAlive` feature in its ready event are not checked.
   */
  watchPxeboot(hostname: string, on: boolean): void {
    if (on) this.pxeboot.watch(hostname);
    else this.pxeboot.unwatch(hostname);
  }

  /** The host went offline: its sequence counters start again (reference §4). */
  resetSequences(hostname: string): void {
    const h = this.hosts.get(hostname);
    if (h) h.sequence = { mgmt: 0, clusterHost: 0, pxeboot: 0 };
  }

  onMessage(listener: (m: HostMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  command(hostname: string, command: HostCommand, options: HostCommandOptions = {}): Promise<number | undefined> {
    const spec = HOST_COMMANDS[command];
    const host = this.hosts.get(hostname);
    if (!host) return Promise.reject(new Error(`${hostname}: unknown host`));
    const networks = this.targetNetworks(host, options.network ?? "mgmt");
    if (networks.length === 0) return Promise.reject(new Error(`${hostname}: no address on ${options.network ?? "mgmt"} to send ${command} to`));
    const expectAck = options.expectAck ?? spec.acked;
    const result = expectAck ? this.awaitAck(hostname, spec.code, command, options.timeoutMs ?? this.timers.cmdResponseTimeoutMs) : undefined;
    const sends = networks.map((network) => this.send(host, network, this.buildCommand(host, network, command, spec.code, options)));
    if (!result) return Promise.all(sends).then(() => undefined);
    // A failed send on one network does not fail the command while another may still answer.
    for (const s of sends) s.catch(() => {});
    return result;
  }

  private targetNetworks(host: HostEntry, network: NetworkName | "all"): NetworkName[] {
    const candidates: NetworkName[] = network === "all" ? ["pxeboot", "mgmt", "clusterHost"] : [network];
    return candidates.filter((n) => this.inbox.endpoint(n) && this.hosts.addressOn(host, n));
  }

  private buildCommand(host: HostEntry, network: NetworkName, command: HostCommand, code: number, options: HostCommandOptions): MtcMessage {
    const ep = this.inbox.endpoint(network);
    let parms = options.parms;
    if (!parms && command === "locked") parms = [lockPersistParm(this.deps.config)]; // LOCK_PERSIST unless simplex
    if (!parms && command === "lazyReboot") parms = [this.deps.config.timeouts.lazyReboot];
    const payload: Record<string, unknown> = { address: ep?.address, interface: NETWORK_LABEL[network], ...options.payload };
    if (command === "reqMtcAlive" && network === "pxeboot" && ep && !("pxebootInfo" in payload)) {
      payload.pxebootInfo = { controller: ep.address, "controller-0": ep.address };
    }
    const parm: [number, number, number, number, number] = [0, 0, 0, 0, 0];
    (parms ?? []).slice(0, 5).forEach((v, i) => {
      parm[i] = v >>> 0;
    });
    return mtcMessage({
      signature: Signature.cmdReq,
      cmd: code,
      ver: 1,
      num: Math.min(5, parms?.length ?? 0),
      parm,
      mac: host.mgmtMac ?? "",
      buf: JSON.stringify(payload),
    });
  }

  private async send(host: HostEntry, network: NetworkName, msg: MtcMessage): Promise<void> {
    const ep = this.inbox.endpoint(network);
    const address = this.hosts.addressOn(host, network);
    if (!ep || !address) throw new Error(`${host.hostname}: no ${network} path`);
    await ep.send(encodeMtcMessage(msg), address, clientPort(this.deps.config, network));
  }

  private fireAndForget(hostname: string, command: HostCommand, options: HostCommandOptions): void {
    this.command(hostname, command, { ...options, expectAck: false }).catch((err: Error) =>
      this.log.debug({ host: hostname, command, err: err.message }, "command not sent"),
    );
  }

  private awaitAck(hostname: string, code: number, command: HostCommand, timeoutMs: number): Promise<number> {
    const key = `${hostname}|${code}`;
    return new Promise<number>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const waiter: Waiter = {
        resolve: (rc) => {
          this.deps.clock.clearTimeout(timer);
          resolve(rc);
        },
        reject: (err) => {
          this.deps.clock.clearTimeout(timer);
          reject(err);
        },
      };
      const set = this.pending.get(key) ?? new Set<Waiter>();
      this.pending.set(key, set);
      set.add(waiter);
      timer = this.deps.clock.setTimeout(() => {
        set.delete(waiter);
        if (set.size === 0 && this.pending.get(key) === set) this.pending.delete(key);
        reject(new CommandTimeoutError(`${hostname}: no ACK to ${command} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
    });
  }

  private settleAck(host: HostEntry, network: NetworkName, msg: MtcMessage): void {
    const key = `${host.hostname}|${msg.cmd}`;
    const waiters = this.pending.get(key);
    if (!waiters) {
      this.log.debug({ host: host.hostname, network, cmd: mtcCodeName(msg.cmd) }, "ACK with nobody waiting");
      return;
    }
    this.pending.delete(key);
    for (const w of waiters) w.resolve(msg.parm[0]);
  }

  private afterAlive(host: HostEntry, network: NetworkName, flags: number, sequence: number): void {
    if (network === "pxeboot") this.pxeboot.seen(host.hostname, sequence);
    this.auditLockFlag(host, flags);
  }

  /** nodeClass.cpp: set_mtce_flags — the node-locked flag must agree with the admin state. */
  private auditLockFlag(host: HostEntry, flags: number): void {
    if (!host.administrative) return;
    const reportsLocked = (flags & MtcFlag.I_AM_LOCKED) !== 0;
    const wantLocked = host.administrative === "locked";
    if (reportsLocked === wantLocked) return;
    // One correction per host per second: the three networks' mtcAlives arrive together.
    const now = this.deps.clock.now();
    if (now - (this.lastAudit.get(host.hostname) ?? Number.NEGATIVE_INFINITY) < 1000) return;
    this.lastAudit.set(host.hostname, now);
    this.log.info({ host: host.hostname, admin: host.administrative }, `node-locked flag disagrees; re-sending ${wantLocked ? "LOCKED" : "UNLOCKED"}`);
    // Locked goes out on pxeboot too: the fallback when IPsec breaks mgmt and cluster-host.
    this.fireAndForget(host.hostname, wantLocked ? "locked" : "unlocked", { network: "all" });
  }

  private emit(m: HostMessage): void {
    for (const l of this.listeners) {
      try {
        l(m);
      } catch (err) {
        this.log.error({ host: m.hostname, kind: m.kind, err: (err as Error).message }, "a HostMessage listener failed");
      }
    }
  }
}
