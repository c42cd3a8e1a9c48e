import type { MetalConfig } from "../config/schema.js";
import { RateLimitedLog } from "../logging/rate-limited.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import { agentAddress, agentPort } from "../transport/mtc-ports.js";
import type { Datagram, Endpoint, NetworkName, Transport } from "../transport/transport.js";
import { mtcJsonObject } from "../wire/mtc-alive.js";
import { MtcCmd, MtcEvent, mtcCodeName } from "../wire/mtc-codes.js";
import { decodeMtcMessage, encodeMtcMessage, type MtcMessage, Signature } from "../wire/mtc-message.js";
import { AlivePayloadCache } from "./inbox-alive-cache.js";
import { MessageRateLog } from "./inbox-rate.js";
import { judgeSequence, sequenceLogKey } from "./inbox-sequence.js";
import type { HostAddressBook, HostEntry } from "./messaging-hosts.js";
import type { HostMessage } from "./ports.js";

/** Where the inbox hands what it understood. */
export interface InboxSink {
  message(m: HostMessage): void;
  /** A command response ("cgts mtc cmd rsp:") from a known host. */
  ack(host: HostEntry, network: NetworkName, msg: MtcMessage): void;
  /** After every accepted mtcAlive (the flag audit and the pxeboot monitor hang off this). */
  alive(host: HostEntry, network: NetworkName, flags: number, sequence: number): void;
}

export interface InboxStats {
  received: number;
  accepted: number;
  dropped: number;
}

const MAX_JSON_DATAGRAM = 1060;

/**
 * The mtcAgent's receive side (mtcCtrlMsg.cpp: mtc_service_inbox): one socket per provisioned network,
 * datagrams taken in batches, classes told apart by their signature, every message attributed to a known
 * host or dropped with one rate-limited log line. Never throws into the event loop.
 */
export class AgentInbox {
  readonly stats: InboxStats = { received: 0, accepted: 0, dropped: 0 };
  private readonly endpoints = new Map<NetworkName, Endpoint>();
  private readonly bad: RateLimitedLog;
  private readonly rate: MessageRateLog;
  private readonly aliveCache = new AlivePayloadCache();

  constructor(
    private readonly config: MetalConfig,
    private readonly transport: Transport,
    clock: Clock,
    private readonly log: Logger,
    private readonly hosts: HostAddressBook,
    private readonly sink: InboxSink,
  ) {
    this.bad = new RateLimitedLog(log, clock);
    this.rate = new MessageRateLog(clock, log, config.messaging.rateLogThreshold, config.messaging.rateLogWindowMs);
  }

  /** Bind mgmt, and cluster-host and pxeboot when the config provisions them. */
  async start(): Promise<void> {
    for (const network of ["mgmt", "clusterHost", "pxeboot"] as const) {
      const address = agentAddress(this.config, network);
      if (address === undefined) continue;
      const ep = await this.transport.bind(network, address, agentPort(this.config, network), (batch) => this.receive(batch));
      this.endpoints.set(network, ep);
      this.log.info({ network, address: ep.address, port: ep.port }, "mtcAgent inbox listening");
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.endpoints.values()].map((e) => e.close()));
    this.endpoints.clear();
  }

  endpoint(network: NetworkName): Endpoint | undefined {
    return this.endpoints.get(network);
  }

  /** Handle one batch. Public so the bench and tests can drive the decode+dispatch path directly. */
  receive(batch: readonly Datagram[]): void {
    this.stats.received += batch.length;
    this.rate.add(batch.length);
    for (const d of batch) {
      try {
        if (this.handle(d)) this.stats.accepted++;
        else this.stats.dropped++;
      } catch (err) {
        // A listener threw: the inbox keeps serving every other host.
        this.stats.dropped++;
        this.bad.warn("listener", { err: (err as Error).message }, "mtcAgent inbox: a listener failed on a message");
      }
    }
  }

  private drop(key: string, d: Datagram, reason: string): false {
    this.bad.warn(`${key}:${d.network}:${d.address}`, { network: d.network, from: `${d.address}:${d.port}`, reason }, "mtcAgent inbox dropped a datagram");
    return false;
  }

  private handle(d: Datagram): boolean {
    if (d.data.length > 0 && d.data[0] === 0x7b) return this.handleJsonDatagram(d);
    const decoded = decodeMtcMessage(d.data);
    if (!decoded.ok) return this.drop(`decode:${decoded.reason.split(":")[0]}`, d, decoded.reason);
    const msg = decoded.msg;
    switch (msg.signature) {
      case Signature.workerMsg:
        return this.handleWorkerMsg(d, msg);
      case Signature.cmdRsp:
        return this.handleResponse(d, msg);
      case Signature.event:
        return this.handleEvent(d, msg);
      default:
        return this.drop("signature", d, `unexpected signature '${printable(msg.signature)}'`);
    }
  }

  private from(d: Datagram): HostEntry | undefined {
    return this.hosts.at(d.network, d.address);
  }

  /**
   * This controller's own daemons (hbsAgent, hwmon, pmond, guestAgent on the controller): loopback, the inbox's
   * own addresses, the configured controller addresses, `security.controllers` and the hbsAgents.
   */
  private local(address: string): boolean {
    if (address === "127.0.0.1" || address === "::1") return true;
    for (const ep of this.endpoints.values()) if (ep.address === address) return true;
    const c = this.config;
    return (
      c.security.controllers.includes(address) ||
      c.heartbeat.agents.some((a) => a.address === address) ||
      [c.networks.mgmt, c.networks.clusterHost, c.networks.pxeboot].some((n) => n?.controller === address || n?.address === address)
    );
  }

  /** Events and degrade requests are taken from a known host's address or this controller's own daemons only. */
  private trusted(d: Datagram): boolean {
    return this.from(d) !== undefined || this.local(d.address);
  }

  private handleWorkerMsg(d: Datagram, msg: MtcMessage): boolean {
    switch (msg.cmd) {
      case MtcCmd.MTC_MSG_MTCALIVE:
        return this.handleAlive(d, msg);
      case MtcCmd.MTC_MSG_MAIN_GOENABLED:
      case MtcCmd.MTC_MSG_SUBF_GOENABLED:
      case MtcCmd.MTC_MSG_MAIN_GOENABLED_FAILED:
      case MtcCmd.MTC_MSG_SUBF_GOENABLED_FAILED: {
        const host = this.from(d);
        if (!host) return this.drop("unknown", d, `${mtcCodeName(msg.cmd)} from an unknown host`);
        const passed = msg.cmd === MtcCmd.MTC_MSG_MAIN_GOENABLED || msg.cmd === MtcCmd.MTC_MSG_SUBF_GOENABLED;
        const subfunction = msg.cmd === MtcCmd.MTC_MSG_SUBF_GOENABLED || msg.cmd === MtcCmd.MTC_MSG_SUBF_GOENABLED_FAILED;
        if (passed) this.replyGoenabled(d, msg);
        this.sink.message({ kind: "goenabled", hostname: host.hostname, subfunction, passed, ...(msg.buf ? { text: msg.buf.slice(0, 256) } : {}) });
        return true;
      }
      case MtcCmd.MTC_CMD_HOST_SVCS_RESULT:
        return this.handleServicesResult(d, msg);
      default:
        return this.drop("cmd", d, `unexpected ${mtcCodeName(msg.cmd)} in a worker message`);
    }
  }

  /** The agent echoes a goenabled pass with "cgts mtc rep msg:" so the client stops re-sending it. */
  private replyGoenabled(d: Datagram, msg: MtcMessage): void {
    const ep = this.endpoints.get(d.network);
    if (!ep) return;
    const reply = encodeMtcMessage({ ...msg, signature: Signature.repMsg, mac: undefined, hostname: undefined });
    ep.send(reply, d.address, d.port).catch((err: Error) => this.bad.warn(`send:${d.address}`, { err: err.message }, "goenabled reply failed"));
  }

  private handleAlive(d: Datagram, msg: MtcMessage): boolean {
    const parsed = this.aliveCache.parse(msg);
    if (!parsed.ok) return this.drop("alive", d, parsed.reason);
    const { alive } = parsed;
    const host = this.hosts.get(alive.payload.hostname);
    if (!host) return this.drop("unknown", d, `mtcAlive from unknown host '${alive.payload.hostname.slice(0, 64)}'`);
    const network = d.network;
    // A host speaks for itself only: on mgmt from its own address, elsewhere not from another host's address.
    if (network === "mgmt" ? d.address !== host.mgmtIp : (this.from(d) ?? host) !== host)
      return this.drop("source", d, `mtcAlive for '${host.hostname}' from an address that is not the host's`);
    // The agent learns the cluster-host and pxeboot addresses from where the mtcAlive came from.
    if (network === "clusterHost" || network === "pxeboot") {
      if (this.hosts.learn(host, network, d.address)) this.log.info({ host: host.hostname, network, address: d.address }, "learned host address");
    }
    if (network === "mgmt" && !host.mgmtMac && alive.payload.mgmt_mac) host.mgmtMac = alive.payload.mgmt_mac;
    this.checkSequence(host, network, alive.sequence);
    const m: Extract<HostMessage, { kind: "mtcAlive" }> = {
      kind: "mtcAlive",
      hostname: host.hostname,
      network,
      address: d.address,
      uptime: alive.uptime,
      flags: alive.flags,
      health: alive.health,
      sequence: alive.sequence,
    };
    // Plain assignments, not conditional spreads: this runs for every mtcAlive of every host.
    const p = alive.payload;
    if (p.mgmt_mac) m.mac = p.mgmt_mac;
    if (p.personality) m.personality = p.personality;
    if (p.cluster_host_ip) m.clusterHostIp = p.cluster_host_ip;
    if (p.pxeboot_ip) m.pxebootIp = p.pxeboot_ip;
    this.sink.message(m);
    this.sink.alive(host, network, alive.flags, alive.sequence);
    return true;
  }

  private checkSequence(host: HostEntry, network: NetworkName, seq: number): void {
    const previous = host.sequence[network];
    const verdict = judgeSequence(previous, seq);
    host.sequence[network] = seq;
    const key = sequenceLogKey(host.hostname, network);
    if (verdict.kind === "outOfSequence")
      this.bad.warn(key, { host: host.hostname, network, seq, expected: verdict.expected }, "mtcAlive out-of-sequence; correcting");
    else if (verdict.kind === "missed")
      this.bad.warn(key, { host: host.hostname, network, seq, missed: verdict.count }, `missed ${verdict.count} mtcAlive msgs`);
  }

  private handleResponse(d: Datagram, msg: MtcMessage): boolean {
    if (msg.cmd === MtcCmd.MTC_CMD_HOST_SVCS_RESULT) return this.handleServicesResult(d, msg);
    const host = this.from(d);
    if (!host) return this.drop("unknown", d, `${mtcCodeName(msg.cmd)} response from an unknown host`);
    this.sink.ack(host, d.network, msg);
    return true;
  }

  private handleServicesResult(d: Datagram, msg: MtcMessage): boolean {
    const host = this.from(d);
    if (!host) return this.drop("unknown", d, "host services result from an unknown host");
    this.sink.message({ kind: "hostServicesResult", hostname: host.hostname, rc: msg.parm[0], text: msg.buf.slice(0, 256) });
    return true;
  }

  private handleEvent(d: Datagram, msg: MtcMessage): boolean {
    const json = mtcJsonObject(msg);
    if (!json.ok) return this.drop("event", d, json.reason);
    const payload = json.value;
    const named = typeof payload.hostname === "string" ? this.hosts.get(payload.hostname) : undefined;
    const host = named ?? this.from(d);
    if (!host) return this.drop("unknown", d, `${mtcCodeName(msg.cmd)} event from an unknown host`);
    if (!this.trusted(d)) return this.drop("source", d, `${mtcCodeName(msg.cmd)} event from an address that is neither a host nor this controller`);
    const service = typeof payload.service === "string" ? payload.service.slice(0, 64) : "";
    if (msg.cmd === MtcEvent.MTC_EVENT_MONITOR_READY) {
      if (service === "mtcClient") host.pxebootFeature = Array.isArray(payload.features) && payload.features.includes("pxeboot_mtcAlive");
      this.sink.message({ kind: "monitorReady", hostname: host.hostname, service, payload });
    } else {
      this.sink.message({ kind: "event", hostname: host.hostname, code: msg.cmd, service, payload });
    }
    return true;
  }

  /** A datagram that is JSON as a whole (hdr[0] == '{'): the collectd notifier's degrade requests. */
  private handleJsonDatagram(d: Datagram): boolean {
    if (d.data.length > MAX_JSON_DATAGRAM) return this.drop("json", d, `oversized JSON datagram: ${d.data.length} bytes`);
    let v: unknown;
    try {
      v = JSON.parse(d.data.toString("utf8"));
    } catch (err) {
      return this.drop("json", d, `bad JSON: ${(err as Error).message}`);
    }
    if (!v || typeof v !== "object" || Array.isArray(v)) return this.drop("json", d, "JSON datagram is not an object");
    const payload = v as Record<string, unknown>;
    const host = typeof payload.hostname === "string" ? this.hosts.get(payload.hostname) : undefined;
    if (!host) return this.drop("unknown", d, "JSON datagram for an unknown host");
    if (!this.trusted(d)) return this.drop("source", d, "JSON datagram from an address that is neither a host nor this controller");
    const service = typeof payload.service === "string" ? payload.service.slice(0, 64) : "";
    const code = payload.degrade === "set" ? MtcEvent.MTC_DEGRADE_RAISE : MtcEvent.MTC_DEGRADE_CLEAR;
    this.sink.message({ kind: "event", hostname: host.hostname, code, service, payload });
    return true;
  }
}

function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: we replace control characters so a log line stays one line
  return s.replace(/[\x00-\x1f\x7f-\uffff]/g, "?").slice(0, 17);
}
