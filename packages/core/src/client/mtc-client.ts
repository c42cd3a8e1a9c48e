import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { dirname } from "node:path";
import { type NodePaths, nodePaths } from "../config/paths.js";
import { type MetalConfig, messagingTimers } from "../config/schema.js";
import { RateLimitedLog } from "../logging/rate-limited.js";
import type { HostProfile, PersonalityHooks, PersonalityRegistry, ServiceFunction } from "../plugin-api/personality.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import { agentPort, clientPort } from "../transport/mtc-ports.js";
import type { Datagram, Endpoint, NetworkName, Transport } from "../transport/transport.js";
import { INTERFACE_LABEL, type MtcAlivePayload, mtcAliveMessage, mtcJsonObject } from "../wire/mtc-alive.js";
import { MTC_ENHANCED_HOST_SERVICES, MtcCmd, MtcEvent, mtcCodeName } from "../wire/mtc-codes.js";
import { checkCommandMac } from "../wire/mtc-mac.js";
import { decodeMtcMessage, encodeMtcMessage, type MtcMessage, mtcMessage, Signature } from "../wire/mtc-message.js";
import { type ClientResults, FlagReader } from "./flags.js";
import { type GoenabledKind, GoenabledRunner } from "./goenabled.js";
import { HostServicesRunner } from "./host-services.js";
import type { NodeActions } from "./node-actions.js";
import { NodeLockedFiles } from "./node-locked.js";

export interface MtcClientDeps {
  config: MetalConfig;
  transport: Transport;
  clock: Clock;
  logger: Logger;
  actions: NodeActions;
  personalities: PersonalityRegistry;
}

const LUKS_CHECK_MS = 60_000;
const GOENABLED_RESEND_MS = 2_000;
const GOENABLED_RESENDS = 5;

const SERVICE_COMMANDS: Readonly<Record<number, { fn: ServiceFunction; action: "start" | "stop" }>> = {
  [MtcCmd.MTC_CMD_STOP_CONTROL_SVCS]: { fn: "controller", action: "stop" },
  [MtcCmd.MTC_CMD_STOP_WORKER_SVCS]: { fn: "worker", action: "stop" },
  [MtcCmd.MTC_CMD_STOP_STORAGE_SVCS]: { fn: "storage", action: "stop" },
  [MtcCmd.MTC_CMD_START_CONTROL_SVCS]: { fn: "controller", action: "start" },
  [MtcCmd.MTC_CMD_START_WORKER_SVCS]: { fn: "worker", action: "start" },
  [MtcCmd.MTC_CMD_START_STORAGE_SVCS]: { fn: "storage", action: "start" },
};

/**
 * mtcClient (mtcNodeComp.cpp, mtcCompMsg.cpp): on every host, sends mtcAlive on mgmt, cluster-host and pxeboot,
 * executes the agent's commands (with ACKs) after checking they carry this node's MAC, keeps the node-locked
 * files, and runs the goenabled and host-services scripts.
 */
export class MtcClient {
  private readonly endpoints = new Map<NetworkName, Endpoint>();
  private readonly sequence: Record<NetworkName, number> = { mgmt: 0, clusterHost: 0, pxeboot: 0 };
  /** Both controllers' pxeboot addresses, learned from pxebootInfo in pxeboot mtcAlive requests. */
  private readonly pxebootControllers = new Set<string>();
  private readonly results: ClientResults = {
    mainGoenableFail: false,
    subfGoenableFail: false,
    mainServicesFail: false,
    subfServicesFail: false,
    luksFailed: false,
  };
  private readonly paths: NodePaths;
  private readonly timers: ReturnType<typeof messagingTimers>;
  private readonly flags: FlagReader;
  private readonly locked: NodeLockedFiles;
  private readonly goenabled: GoenabledRunner;
  private readonly services: HostServicesRunner;
  private readonly profile: HostProfile;
  private readonly personality: PersonalityHooks;
  private readonly bad: RateLimitedLog;
  private readonly log: Logger;
  private readonly handles: TimerHandle[] = [];
  private mtcInfo: Record<string, unknown> = {};
  private goingDown = false;
  /** goenabled passes the agent has not echoed yet, re-sent until it does (a lost datagram must not stall an enable). */
  private readonly unechoed = new Map<number, TimerHandle>();
  private luksCheckedAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  readonly stats = { commands: 0, dropped: 0, alivesSent: 0 };

  constructor(private readonly deps: MtcClientDeps) {
    const { config } = deps;
    if (!config.node.mac) throw new Error("node.mac is required: agent commands are checked against this node's mgmt MAC");
    if (!config.networks.mgmt.address) throw new Error("networks.mgmt.address is required: the client sends mtcAlive from it");
    this.log = deps.logger.child({ svc: "mtcClient", host: config.node.hostname });
    this.paths = nodePaths(config.root);
    this.timers = messagingTimers(config);
    this.profile = {
      hostname: config.node.hostname,
      subfunctions: config.node.subfunctions.filter((f) => f !== "lowlatency") as ServiceFunction[],
      systemType: config.system.type,
    };
    this.personality = deps.personalities.forHost(this.profile);
    this.flags = new FlagReader(this.paths, this.profile.subfunctions.includes("worker"));
    this.locked = new NodeLockedFiles(this.paths);
    this.goenabled = new GoenabledRunner(this.paths, deps.clock, this.log, config.timeouts.goenabled * 1000, config.messaging.goenabledRecentPassMs);
    this.services = new HostServicesRunner(this.paths, this.log, config.timeouts.hostServices * 1000, config.system.type);
    this.bad = new RateLimitedLog(this.log, deps.clock);
  }

  /** The networks this client serves: mgmt always; cluster-host and pxeboot when configured (no pxeboot on AIO-SX). */
  networks(): NetworkName[] {
    const n = this.deps.config.networks;
    const out: NetworkName[] = ["mgmt"];
    if (n.clusterHost?.address) out.push("clusterHost");
    if (n.pxeboot?.address && this.deps.config.system.type !== "aio-sx") out.push("pxeboot");
    return out;
  }

  async start(): Promise<void> {
    const locked = await this.locked.restoreAtStart();
    this.log.info({ locked, networks: this.networks() }, "mtcClient starting");
    await this.openEndpoints(true);
    const { clock } = this.deps;
    this.handles.push(
      clock.setTimeout(() => {
        this.background("mtcAlive", this.tick());
        this.handles.push(clock.setInterval(() => this.background("mtcAlive", this.tick()), this.timers.mtcAlivePeriodMs));
      }, this.timers.firstMtcAliveMs),
    );
    this.background("ready", this.sendReady());
    this.handles.push(clock.setInterval(() => this.background("ready", this.sendReady()), this.timers.readyEventPeriodMs));
    // Main tests are posted at start when there is no pass file; the subf tests on AIO controllers likewise.
    if (!existsSync(this.paths.goenabledPass)) this.background("goenabled", this.runGoenabled("main", true));
    if (this.personality.hasSubfunctionEnable(this.profile) && !existsSync(this.paths.goenabledSubfPass))
      this.background("goenabled", this.runGoenabled("subf", true));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const h of this.handles) this.deps.clock.clearInterval(h);
    for (const h of this.unechoed.values()) this.deps.clock.clearInterval(h);
    await Promise.all([...this.endpoints.values()].map((e) => e.close()));
    this.endpoints.clear();
  }

  /** Bind each network's socket; a failed one is retried at the next tick (pxeboot first, then mgmt, then clstr). */
  private async openEndpoints(first = false): Promise<void> {
    const order: NetworkName[] = ["pxeboot", "mgmt", "clusterHost"];
    for (const network of order.filter((n) => this.networks().includes(n) && !this.endpoints.has(n))) {
      const address = this.deps.config.networks[network]?.address as string;
      try {
        const ep = await this.deps.transport.bind(network, address, clientPort(this.deps.config, network), (batch) => this.receive(batch));
        this.endpoints.set(network, ep);
        if (!first) this.log.info({ network }, "socket re-created");
      } catch (err) {
        this.bad.warn(`bind:${network}`, { network, address, err: (err as Error).message }, "cannot open socket; retrying at the next mtcAlive");
      }
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.goingDown) return;
    await this.openEndpoints();
    // The vault check forks cryptsetup: once a minute is enough for a flag the agent audits over minutes.
    if (this.deps.clock.now() - this.luksCheckedAt >= LUKS_CHECK_MS) {
      this.luksCheckedAt = this.deps.clock.now();
      this.results.luksFailed = await this.deps.actions.luksVaultFailed();
    }
    for (const network of ["pxeboot", "mgmt", "clusterHost"] as const) if (this.endpoints.has(network)) await this.sendAlive(network);
  }

  private destinations(network: NetworkName): string[] {
    const configured = this.deps.config.networks[network]?.controller;
    if (network !== "pxeboot") return configured ? [configured] : [];
    const all = new Set(this.pxebootControllers);
    if (configured) all.add(configured);
    return [...all];
  }

  /** Build and send one mtcAlive on a network (the sequence counts per interface, first is 1). */
  async sendAlive(network: NetworkName): Promise<void> {
    const ep = this.endpoints.get(network);
    if (!ep) return;
    const { config } = this.deps;
    const sequence = ++this.sequence[network];
    const payload: MtcAlivePayload = {
      hostname: config.node.hostname,
      personality: config.node.subfunctions.join(","),
      interface: INTERFACE_LABEL[network],
      sequence,
    };
    if (config.networks.mgmt.address) payload.mgmt_ip = config.networks.mgmt.address;
    if (config.networks.clusterHost?.address) payload.cluster_host_ip = config.networks.clusterHost.address;
    if (config.networks.pxeboot?.address) payload.pxeboot_ip = config.networks.pxeboot.address;
    if (config.node.mac) payload.mgmt_mac = config.node.mac;
    const msg = mtcAliveMessage({
      uptime: await this.deps.actions.uptimeSeconds(),
      health: this.flags.health(),
      flags: this.flags.flags(network, this.results),
      sequence,
      payload,
    });
    await this.sendTo(network, encodeMtcMessage(msg), this.destinations(network));
    this.stats.alivesSent++;
  }

  private async sendTo(network: NetworkName, data: Buffer, addresses: readonly string[], port = agentPort(this.deps.config, network)): Promise<void> {
    const ep = this.endpoints.get(network);
    if (!ep) return;
    for (const a of addresses) {
      await ep.send(data, a, port).catch((err: Error) => {
        this.bad.warn(`send:${network}:${a}`, { network, to: a, err: err.message }, "send failed");
      });
    }
  }

  /** The ready event (MTC_EVENT_MONITOR_READY), with the pxeboot feature the agent's monitor keys on. */
  private async sendReady(): Promise<void> {
    if (this.goingDown) return;
    const active = [...this.pxebootControllers][0] ?? this.deps.config.networks.pxeboot?.controller;
    const buf = JSON.stringify({
      hostname: this.deps.config.node.hostname,
      service: "mtcClient",
      ...(active ? { active_controller_pxeboot_address: active } : {}),
      // Only a client that sends pxeboot mtcAlives asks the agent to watch for them.
      ...(this.endpoints.has("pxeboot") ? { features: ["pxeboot_mtcAlive"] } : {}),
    });
    const msg = mtcMessage({ signature: Signature.event, cmd: MtcEvent.MTC_EVENT_MONITOR_READY, ver: 2, buf });
    await this.sendTo("mgmt", encodeMtcMessage(msg), this.destinations("mgmt"));
  }

  /**
   * goenabled results go to the controller on mgmt. QUIRK fixed: the reference advances the mgmt mtcAlive
   * sequence counter for these too, so the agent logs a phantom "missed 1 mtcAlive" after every goenabled
   * result; here only mtcAlives advance it.
   */
  private sendWorkerMsg(cmd: number, buf = ""): Promise<void> {
    const msg = mtcMessage({ signature: Signature.workerMsg, cmd, buf: buf.slice(0, 900) });
    return this.sendTo("mgmt", encodeMtcMessage(msg), this.destinations("mgmt"));
  }

  private async runGoenabled(kind: GoenabledKind, atBoot: boolean): Promise<void> {
    const r = await this.goenabled.request(kind);
    if (this.stopped) return;
    if (kind === "main") this.results.mainGoenableFail = !r.passed;
    else this.results.subfGoenableFail = !r.passed;
    const code =
      kind === "main"
        ? r.passed
          ? MtcCmd.MTC_MSG_MAIN_GOENABLED
          : MtcCmd.MTC_MSG_MAIN_GOENABLED_FAILED
        : r.passed
          ? MtcCmd.MTC_MSG_SUBF_GOENABLED
          : MtcCmd.MTC_MSG_SUBF_GOENABLED_FAILED;
    await this.sendWorkerMsg(code, r.text ?? "");
    if (r.passed) this.resendUntilEchoed(code);
    if (atBoot && r.passed) await this.autoStartServices(kind);
  }

  private resendUntilEchoed(code: number): void {
    this.deps.clock.clearInterval(this.unechoed.get(code));
    let tries = 0;
    const h = this.deps.clock.setInterval(() => {
      if (++tries > GOENABLED_RESENDS || this.stopped) {
        this.deps.clock.clearInterval(h);
        this.unechoed.delete(code);
        return;
      }
      this.background("goenabled", this.sendWorkerMsg(code));
    }, GOENABLED_RESEND_MS);
    this.unechoed.set(code, h);
  }

  /**
   * At boot, when not locked and no goenabled test failed, host services start after the goenabled pass:
   * every function on a standard system; on AIO the controller after the main pass, the rest after the subf pass.
   */
  private async autoStartServices(kind: GoenabledKind): Promise<void> {
    if (await this.locked.isLocked()) return;
    if (this.results.mainGoenableFail || this.results.subfGoenableFail) return;
    const all = this.personality.hostServiceFunctions(this.profile);
    const split = this.personality.hasSubfunctionEnable(this.profile);
    const fns = !split ? (kind === "main" ? all : []) : kind === "main" ? all.slice(0, 1) : all.slice(1);
    for (const fn of fns) {
      const r = await this.services.run(fn, "start");
      if (kind === "main") this.results.mainServicesFail = r.rc !== 0;
      else this.results.subfServicesFail = r.rc !== 0;
      if (r.rc !== 0) return;
    }
  }

  private receive(batch: readonly Datagram[]): void {
    for (const d of batch) {
      this.handleCommand(d).catch((err: Error) => this.bad.warn("command", { err: err.message }, "command handling failed"));
    }
  }

  private drop(key: string, d: Datagram, reason: string): void {
    this.stats.dropped++;
    this.bad.warn(`${key}:${d.network}:${d.address}`, { network: d.network, from: `${d.address}:${d.port}`, reason }, "mtcClient dropped a datagram");
  }

  /**
   * Whether a datagram comes from a controller: the network's configured `controller`, `security.controllers`,
   * and on pxeboot also every configured controller address and the ones learned from pxebootInfo. Anything
   * else is not obeyed, keyed or not (a spoofed source is caught by the cluster key's MAC when there is one).
   */
  private fromController(d: Datagram): boolean {
    const { networks, security } = this.deps.config;
    if (networks[d.network]?.controller === d.address || security.controllers.includes(d.address)) return true;
    if (d.network !== "pxeboot") return false;
    return this.pxebootControllers.has(d.address) || [networks.mgmt, networks.clusterHost].some((n) => n?.controller === d.address);
  }

  private async handleCommand(d: Datagram): Promise<void> {
    if (!this.fromController(d)) return this.drop("source", d, "not from a controller address; not obeyed");
    const decoded = decodeMtcMessage(d.data);
    if (!decoded.ok) return this.drop(`decode:${decoded.reason.split(":")[0]}`, d, decoded.reason);
    const msg = decoded.msg;
    if (msg.signature === Signature.repMsg) {
      // The agent's echo of a goenabled pass: stop re-sending it.
      this.deps.clock.clearInterval(this.unechoed.get(msg.cmd));
      this.unechoed.delete(msg.cmd);
      return;
    }
    if (msg.signature !== Signature.cmdReq) return this.drop("signature", d, "not a command request");
    const mac = checkCommandMac(msg, this.deps.config.node.mac as string);
    if (!mac.ok) return this.drop("mac", d, mac.reason);
    if (this.goingDown) return;
    this.stats.commands++;
    const name = mtcCodeName(msg.cmd);
    const service = SERVICE_COMMANDS[msg.cmd];
    if (service) return this.hostServices(d, msg, service.fn, service.action);
    switch (msg.cmd) {
      case MtcCmd.MTC_CMD_LOOPBACK:
        return this.ack(d, msg, 0);
      case MtcCmd.MTC_REQ_MTCALIVE:
        return this.answerMtcAliveRequest(d, msg);
      case MtcCmd.MTC_MSG_LOCKED: {
        const persist = msg.num > 0 && msg.parm[0] !== 0;
        await this.locked.lock(persist);
        this.log.debug({ persist }, "locked");
        // The original echoes the LOCKED message as it came (parm[0] = LOCK_PERSIST), not an rc.
        return this.ack(d, msg, msg.parm[0]);
      }
      case MtcCmd.MTC_MSG_UNLOCKED:
        await this.locked.unlock();
        this.log.info("unlocked");
        return this.ack(d, msg, 0);
      case MtcCmd.MTC_REQ_MAIN_GOENABLED:
      case MtcCmd.MTC_REQ_SUBF_GOENABLED:
        await this.ack(d, msg, 0);
        this.background("goenabled", this.runGoenabled(msg.cmd === MtcCmd.MTC_REQ_MAIN_GOENABLED ? "main" : "subf", false));
        return;
      case MtcCmd.MTC_MSG_SUBF_GOENABLED_FAILED:
        // The agent fails this host's subfunction.
        this.results.subfGoenableFail = true;
        await rm(this.paths.goenabledSubfPass, { force: true });
        await mkdir(dirname(this.paths.goenabledSubfFailed), { recursive: true });
        await writeFile(this.paths.goenabledSubfFailed, "failed by mtcAgent\n");
        return;
      case MtcCmd.MTC_CMD_REBOOT:
      case MtcCmd.MTC_CMD_RESET:
      case MtcCmd.MTC_CMD_WIPEDISK:
      case MtcCmd.MTC_CMD_LAZY_REBOOT:
        await this.ack(d, msg, 0);
        return this.goDown(msg);
      case MtcCmd.MTC_MSG_INFO: {
        const json = mtcJsonObject(msg);
        if (json.ok && json.value.mtcInfo && typeof json.value.mtcInfo === "object") this.mtcInfo = json.value.mtcInfo as Record<string, unknown>;
        return;
      }
      case MtcCmd.MTC_CMD_SYNC:
        await this.deps.actions.sync();
        return;
      default:
        return this.drop("cmd", d, `unsupported command ${name}`);
    }
  }

  /** The ACK: the same message with the response header and parm[0] = rc. */
  private async ack(d: Datagram, msg: MtcMessage, rc: number, extra: Partial<MtcMessage> = {}): Promise<void> {
    const reply: MtcMessage = {
      ...msg,
      signature: Signature.cmdRsp,
      mac: undefined,
      hostname: undefined,
      parm: [rc, ...msg.parm.slice(1)] as MtcMessage["parm"],
      ...extra,
    };
    let data: Buffer;
    try {
      data = encodeMtcMessage(reply);
    } catch {
      data = encodeMtcMessage({ ...reply, buf: "" }); // a buf that grew in decoding cannot be echoed
    }
    // mgmt and cluster-host ACKs go to the controller on that network; pxeboot ones to the requester.
    const controller = d.network === "pxeboot" ? undefined : this.deps.config.networks[d.network]?.controller;
    await this.sendTo(d.network, data, [controller ?? d.address], controller ? agentPort(this.deps.config, d.network) : d.port);
  }

  private async answerMtcAliveRequest(d: Datagram, msg: MtcMessage): Promise<void> {
    if (d.network === "pxeboot") {
      const json = mtcJsonObject(msg);
      const info = json.ok ? json.value.pxebootInfo : undefined;
      if (info && typeof info === "object") {
        // The latest pxebootInfo replaces the old one: after a swact the controllers' roles change.
        const ips = ["controller", "controller-0", "controller-1"]
          .map((k) => (info as Record<string, unknown>)[k])
          .filter((ip): ip is string => typeof ip === "string" && isIP(ip) !== 0);
        if (ips.length > 0) {
          this.pxebootControllers.clear();
          for (const ip of ips) this.pxebootControllers.add(ip);
        }
      }
    }
    await this.sendAlive(d.network);
  }

  private async hostServices(d: Datagram, msg: MtcMessage, fn: ServiceFunction, action: "start" | "stop"): Promise<void> {
    await this.ack(d, msg, 0, { num: 2, parm: [0, MTC_ENHANCED_HOST_SERVICES, 0, 0, 0], buf: "host service launched" });
    const r = await this.services.run(fn, action);
    if (action === "start") {
      if (fn === this.personality.hostServiceFunctions(this.profile)[0]) this.results.mainServicesFail = r.rc !== 0;
      else this.results.subfServicesFail = r.rc !== 0;
    }
    const result = mtcMessage({ signature: Signature.cmdRsp, cmd: MtcCmd.MTC_CMD_HOST_SVCS_RESULT, num: 2, parm: [r.rc, msg.cmd, 0, 0, 0], buf: r.text });
    await this.sendTo(d.network, encodeMtcMessage(result), [
      d.network === "pxeboot" ? d.address : (this.deps.config.networks[d.network]?.controller ?? d.address),
    ]);
  }

  /** Reboot, reset, wipedisk, lazy reboot: stop pmon, arm the SysRq failsafe, then go. */
  private async goDown(msg: MtcMessage): Promise<void> {
    const { actions, clock, config } = this.deps;
    this.goingDown = true;
    const name = mtcCodeName(msg.cmd);
    this.log.warn({ cmd: name }, "maintenance command: going down");
    await actions.stopPmon();
    const failsafeS =
      msg.cmd === MtcCmd.MTC_CMD_REBOOT || msg.cmd === MtcCmd.MTC_CMD_LAZY_REBOOT ? config.timeouts.failsafeShutdown : config.timeouts.failsafeShutdown / 2;
    if (msg.cmd === MtcCmd.MTC_CMD_LAZY_REBOOT) {
      const delayS = msg.num > 0 ? Math.min(msg.parm[0], 3600) : config.timeouts.lazyReboot;
      await clock.sleep(delayS * 1000);
    }
    this.handles.push(clock.setTimeout(() => this.background("failsafe", actions.sysrq("b")), failsafeS * 1000));
    if (msg.cmd === MtcCmd.MTC_CMD_WIPEDISK) await actions.wipedisk(name);
    else if (msg.cmd === MtcCmd.MTC_CMD_RESET) await actions.reset(name);
    else await actions.reboot(name);
  }

  /** Work that runs on its own: a failure is logged (rate-limited), never an unhandled rejection. */
  private background(what: string, p: Promise<unknown>): void {
    p.catch((err: Error) => this.bad.warn(`bg:${what}`, { err: err.message }, `${what} failed`));
  }

  /** goenabled codes sent and not yet echoed by the agent. */
  awaitingEcho(): number[] {
    return [...this.unechoed.keys()];
  }

  /** The peer-controller info the agent last sent (MTC_MSG_INFO). */
  info(): Readonly<Record<string, unknown>> {
    return this.mtcInfo;
  }
}
