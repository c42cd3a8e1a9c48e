/**
 * The mtcAgent side of the heartbeat (reference mtce-core.md §1.2, §3.3): heartbeat commands go to the hbsAgent
 * of **both** controllers on `ports.hbsCmd`; their events arrive on `ports.hbsEvent` and become HeartbeatEvents,
 * attributed to the controller whose address sent them.
 */
import type { HeartbeatControl, HeartbeatEvent, HeartbeatHost } from "../agent/ports.js";
import { RateLimitedLog } from "../logging/rate-limited.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import { type DatagramAuth, PLAIN_DATAGRAMS } from "../transport/datagram-auth.js";
import type { UdpSocket } from "../transport/udp-socket.js";
import { decodeHbsEvent, encodeHbsCommand, type HbsCommand } from "./hbs-messages.js";
import { bindUdp, closeUdp, sendUdp } from "./udp.js";

export interface HbsAgentAddress {
  hostname: string;
  address: string;
}

export interface UdpHeartbeatControlOptions {
  /** The hbsAgents to command (controller-0 and controller-1 mgmt addresses). */
  agents: readonly HbsAgentAddress[];
  cmdPort: number;
  /** Where this mtcAgent listens for events (the floating controller address) and on which port. */
  eventAddress: string;
  eventPort: number;
  /** This mtcAgent's hostname (in the buf of BACKOFF/RECOVER). */
  hostname: string;
  clock: Clock;
  logger: Logger;
  /** The node's DatagramAuth (`datagramAuthFor(config, log)`); plain when absent (tests of the original format). */
  auth?: DatagramAuth;
}

export class UdpHeartbeatControl implements HeartbeatControl {
  private sock?: UdpSocket;
  private readonly listeners = new Set<(e: HeartbeatEvent) => void>();
  private readonly bad: RateLimitedLog;
  private readonly log: Logger;
  /** Commands sent (for tests and the bench). */
  readonly sent: HbsCommand[] = [];

  constructor(private readonly options: UdpHeartbeatControlOptions) {
    this.log = options.logger.child({ svc: "hbsControl" });
    this.bad = new RateLimitedLog(this.log, options.clock);
  }

  async start(): Promise<void> {
    this.sock = await bindUdp(this.options.eventAddress, this.options.eventPort, {
      auth: this.options.auth ?? PLAIN_DATAGRAMS,
      label: "mtcAgent hbs event",
      onMessage: (data, rinfo) => this.onDatagram(data, rinfo.address),
    });
    this.sock.onError((err) => this.bad.warn("sock", { err: err.message }, "event socket error"));
  }

  /** The port events are received on (useful when started with port 0). */
  get eventPort(): number {
    return this.sock?.address().port ?? this.options.eventPort;
  }

  async stop(): Promise<void> {
    await closeUdp(this.sock);
    this.sock = undefined;
  }

  private onDatagram(data: Buffer, from: string): void {
    const source = this.options.agents.find((a) => a.address === from)?.hostname;
    // Heartbeat events come from the hbsAgents only (and daemons on this controller: the event socket's own address).
    if (source === undefined && from !== this.options.eventAddress) {
      this.bad.warn(`src-${from}`, { from }, "dropped a heartbeat event from an address that is not an hbsAgent");
      return;
    }
    const d = decodeHbsEvent(data, source);
    if (!d.ok) {
      this.bad.warn(`ev-${from}`, { from, reason: d.reason }, "dropped a bad heartbeat event");
      return;
    }
    for (const l of this.listeners) {
      try {
        l(d.value);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, "heartbeat event listener failed");
      }
    }
  }

  private send(cmd: HbsCommand): void {
    this.sent.push(cmd);
    if (this.sent.length > 10_000) this.sent.splice(0, 5_000);
    const sock = this.sock;
    if (!sock) {
      this.bad.warn("not-started", { cmd: cmd.kind }, "heartbeat control not started; command dropped");
      return;
    }
    const data = encodeHbsCommand(cmd, this.options.hostname);
    for (const a of this.options.agents) {
      sendUdp(sock, data, this.options.cmdPort, a.address, (err) =>
        this.bad.warn(`cmd-${a.hostname}`, { err: err.message, to: a.hostname }, "cannot send a heartbeat command"),
      );
    }
  }

  addHost(host: HeartbeatHost): void {
    this.send({ kind: "addHost", host });
  }
  delHost(hostname: string): void {
    this.send({ kind: "delHost", hostname });
  }
  startHost(hostname: string): void {
    this.send({ kind: "startHost", hostname });
  }
  stopHost(hostname: string): void {
    this.send({ kind: "stopHost", hostname });
  }
  /** MTC_RESTART_HBS: start the host's miss counting afresh (MNFA per-host recovery). */
  restartHost(hostname: string): void {
    this.send({ kind: "restartHost", hostname });
  }
  backoff(): void {
    this.send({ kind: "backoff" });
  }
  recover(): void {
    this.send({ kind: "recover" });
  }
  activeController(hostname: string): void {
    this.send({ kind: "activeController", hostname });
  }
  onEvent(listener: (e: HeartbeatEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
