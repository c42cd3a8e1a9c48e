/**
 * hbsClient (reference mtce-core.md §3.1, §3.5): runs on every host and answers each controller's pulse
 * requests by unicast to the requester, echoing the sequence, adding its flags (pmond alive, cluster-host
 * provisioned, the requester's controller number) and its cached RRI, and relaying each controller's cluster
 * history to the other so both controllers learn the peer's view.
 */
import type { MetalConfig } from "../config/schema.js";
import { RateLimitedLog } from "../logging/rate-limited.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import { datagramAuthFor } from "../transport/datagram-auth.js";
import type { UdpSocket } from "../transport/udp-socket.js";
import { type ClusterVault, cloneHistory, VAULT_MAX_HISTORIES } from "../wire/cluster-vault.js";
import { controllerOfFlags, decodePulse, encodePulse, HBS_CLUE_MAX, HBS_MESSAGE_VERSION, PulseFlag, withController } from "../wire/hbs-pulse.js";
import { MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF, MtcEvent } from "../wire/mtc-codes.js";
import { encodeMtcMessage, MTC_BUF_OFFSET, mtcMessage, Signature } from "../wire/mtc-message.js";
import type { HbsNetwork } from "./hbs-messages.js";
import { bindUdp, closeUdp, sendUdp } from "./udp.js";

/** The pmond pulse counter is cleared every 5 s; PMOND_FLAG is set while pulses arrived in the window. */
export const PMOND_PULSE_WINDOW_MS = 5_000;
const MAX_CONTROLLERS = 2;
/** Histories of one controller in a request (one per network). */
const MAX_HISTORIES_PER_CONTROLLER = 2;

export interface HbsClientOptions {
  config: MetalConfig;
  clock: Clock;
  logger: Logger;
  /** The lab's cable cutter: a network for which this says true neither receives requests nor answers them. */
  linkDown?: (network: HbsNetwork) => boolean;
}

export class HbsClient {
  readonly hostname: string;
  private readonly cfg: MetalConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly bad: RateLimitedLog;
  private readonly socks: Partial<Record<HbsNetwork, UdpSocket>> = {};
  private pmonSock?: UdpSocket;
  private readySock?: UdpSocket;
  private readyTimer?: TimerHandle;
  private lastPmondPulse = Number.NEGATIVE_INFINITY;
  /** RRI the controller gave us as a clue, per controller. */
  private readonly rri = [0, 0];
  /** The last cluster history each controller sent, relayed to the other one. */
  private readonly cache: Array<ClusterVault | undefined> = [undefined, undefined];
  private readonly missedSummary = [0, 0];
  private running = false;
  private readonly linkDown: (network: HbsNetwork) => boolean;
  readonly stats = { requests: 0, responses: 0, dropped: 0 };

  constructor(options: HbsClientOptions) {
    this.linkDown = options.linkDown ?? (() => false);
    this.cfg = options.config;
    this.clock = options.clock;
    this.hostname = options.config.node.hostname;
    this.log = options.logger.child({ svc: "hbsClient" });
    this.bad = new RateLimitedLog(this.log, this.clock);
  }

  get networks(): HbsNetwork[] {
    return this.cfg.networks.clusterHost?.address ? ["mgmt", "clusterHost"] : ["mgmt"];
  }

  private address(network: HbsNetwork): string {
    return (network === "mgmt" ? this.cfg.networks.mgmt.address : this.cfg.networks.clusterHost?.address) ?? "127.0.0.1";
  }

  async start(): Promise<void> {
    const hb = this.cfg.heartbeat;
    const auth = datagramAuthFor(this.cfg, this.log);
    for (const n of this.networks) {
      const port = n === "mgmt" ? this.cfg.ports.hbsClientMgmt : this.cfg.ports.hbsClientClstr;
      const onMessage = (data: Buffer, rinfo: { address: string }) => this.onRequest(n, data, rinfo.address);
      let sock: UdpSocket;
      if (hb.mode === "multicast") {
        // Multicast requests are addressed to the group: bind the group address itself (not the wildcard, so
        // no unicast datagram to this port reaches the socket), join the group on this interface.
        sock = await bindUdp(hb.multicastGroup, port, { auth, label: `hbsClient pulse ${n}`, reuseAddr: true, onMessage });
        sock.addMembership(hb.multicastGroup, this.address(n));
      } else {
        sock = await bindUdp(this.address(n), port, { auth, label: `hbsClient pulse ${n}`, onMessage });
      }
      sock.onError((err) => this.bad.warn(`sock-${n}`, { err: err.message }, "pulse socket error"));
      this.socks[n] = sock;
    }
    if (hb.clientPmondFlag === "pulses") {
      this.pmonSock = await bindUdp(this.cfg.pmon.loopbackAddress, this.cfg.ports.pmonPulse, {
        auth,
        label: "hbsClient pmond",
        onMessage: (data) => this.onPmondPulse(data),
      });
    }
    this.running = true;
    if (this.cfg.networks.mgmt.controller) {
      this.readySock = await bindUdp(this.address("mgmt"), 0, { auth, label: "hbsClient ready" });
      this.sendReady();
    }
    this.log.info({ networks: this.networks, mode: hb.mode }, "hbsClient started");
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.readyTimer);
    for (const n of ["mgmt", "clusterHost"] as const) await closeUdp(this.socks[n]);
    await closeUdp(this.pmonSock);
    await closeUdp(this.readySock);
  }

  /** MTC_EVENT_MONITOR_READY to the mtcAgent: it gates the heartbeat soak on it. */
  private sendReady(): void {
    if (!this.running || !this.readySock) return;
    if (this.linkDown("mgmt")) {
      this.readyTimer = this.clock.setTimeout(() => this.sendReady(), this.cfg.messaging.readyEventPeriodMs);
      return;
    }
    const msg = mtcMessage({
      signature: Signature.event,
      cmd: MtcEvent.MTC_EVENT_MONITOR_READY,
      ver: MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF,
      buf: JSON.stringify({ hostname: this.hostname, service: "hbsClient" }),
    });
    sendUdp(this.readySock, encodeMtcMessage(msg), this.cfg.ports.agentMgmt, this.cfg.networks.mgmt.controller ?? "127.0.0.1", (err) =>
      this.bad.warn("ready", { err: err.message }, "cannot send the ready event"),
    );
    // Repeated (messaging.readyEventPeriodMs, like the mtcClient's) so a restarted mtcAgent learns the client is up.
    this.readyTimer = this.clock.setTimeout(() => this.sendReady(), this.cfg.messaging.readyEventPeriodMs);
  }

  private onPmondPulse(data: Buffer): void {
    // pmond sends a header-only mtc message (100 bytes) with the "pmond alive pulse" signature.
    if (data.length >= MTC_BUF_OFFSET && data.toString("latin1", 0, Signature.pmondPulse.length) === Signature.pmondPulse) {
      this.lastPmondPulse = this.clock.now();
    } else {
      this.bad.warn("pmond", { bytes: data.length }, "invalid pmon pulse message");
    }
  }

  private flags(): number {
    let f = 0;
    const mode = this.cfg.heartbeat.clientPmondFlag;
    if (mode === "always" || (mode === "pulses" && this.clock.now() - this.lastPmondPulse <= PMOND_PULSE_WINDOW_MS)) f |= PulseFlag.PMOND;
    if (this.cfg.networks.clusterHost?.address) f |= PulseFlag.CLSTR;
    return f;
  }

  private onRequest(network: HbsNetwork, data: Buffer, from: string): void {
    if (this.linkDown(network)) return;
    const d = decodePulse(data);
    if (!d.ok || d.pulse.kind !== "req") {
      this.stats.dropped++;
      this.bad.warn(`req-${network}`, { from, network, reason: d.ok ? "a response, not a request" : d.reason }, "dropped a bad pulse request");
      return;
    }
    const req = d.pulse;
    const controller = controllerOfFlags(req.flags);
    if (controller >= MAX_CONTROLLERS) {
      this.stats.dropped++;
      this.bad.warn(`ctrl-${network}`, { from, controller }, "dropped a pulse request with an invalid controller number");
      return;
    }
    this.stats.requests++;
    if (req.host && req.host === this.hostname.slice(0, HBS_CLUE_MAX)) this.rri[controller] = req.rri;

    const histories = this.relayHistories(controller, req.cluster, network);
    const rsp = encodePulse({
      kind: "rsp",
      host: Buffer.from(this.hostname, "latin1").subarray(0, HBS_CLUE_MAX).toString("latin1"),
      seq: req.seq,
      rri: this.rri[controller] ?? 0,
      flags: withController(this.flags(), controller),
      version: HBS_MESSAGE_VERSION,
      ...(histories ? { cluster: histories } : {}),
    });
    const port = network === "mgmt" ? this.cfg.ports.hbsAgentMgmt : this.cfg.ports.hbsAgentClstr;
    const sock = this.socks[network];
    if (!sock) return;
    sendUdp(sock, rsp, port, from, (err) => this.bad.warn(`rsp-${network}`, { err: err.message, to: from }, "pulse response failed"));
    this.stats.responses++;
  }

  /**
   * Cache the requester's own histories, and answer with them plus the other controller's cached ones, unless
   * that controller has stopped asking (more than 2 x its history count requests from this one in a row).
   */
  private relayHistories(controller: number, vault: ClusterVault | undefined, network: HbsNetwork): ClusterVault | undefined {
    if (!vault) return undefined;
    const own = vault.histories.filter((h) => h.controller === controller);
    if (vault.histories.length > MAX_HISTORIES_PER_CONTROLLER || own.length !== vault.histories.length) {
      this.bad.warn(`hist-${controller}`, { controller, network, histories: vault.histories.length }, "controller provided unexpected cluster histories");
      return { ...vault, histories: [] };
    }
    const other = controller ? 0 : 1;
    if (own.length) {
      this.cache[controller] = { ...vault, histories: own.map(cloneHistory) };
      this.missedSummary[controller] = 0;
    }
    const peer = this.cache[other];
    const out: ClusterVault = { ...vault, reqid: 0, histories: own.map(cloneHistory) };
    if (peer?.histories.length) {
      if (++this.missedSummary[other]! > peer.histories.length * 2) {
        this.log.warn({ controller: other }, "peer controller cluster info cleared");
        this.cache[other] = undefined;
      } else {
        for (const h of peer.histories) if (out.histories.length < VAULT_MAX_HISTORIES) out.histories.push(cloneHistory(h));
      }
    }
    return out;
  }
}
