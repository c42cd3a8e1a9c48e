import type { RemoteInfo } from "node:dgram";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { MetalConfig } from "@metal/core/config/index";
import { RateLimitedLog } from "@metal/core/logging/index";
import type { Clock, Logger, TimerHandle } from "@metal/core/plugin-api";
import { datagramAuthFor } from "@metal/core/transport/datagram-auth";
import { UdpSocket } from "@metal/core/transport/udp-socket";
import { MAX_VALUE_SIZE, type NotificationType } from "../channel/messages.js";
import { GuestCmd, GuestEvent, guestCodeName } from "../udp/codes.js";
import { decodeGuestDatagram, encodeGuestDatagram, type Payload, text } from "../udp/guest-datagram.js";
import { PacedUdpSender } from "../udp/paced-sender.js";
import { ChannelWatcher, channelFileName } from "./channel-watcher.js";
import { GuestInstance } from "./instance.js";
import type { ChannelConnector, InstanceContext, ServerTimers } from "./ports.js";
import { UnixChannelConnector } from "./unix-connector.js";

export interface GuestServerOptions {
  config: MetalConfig;
  clock: Clock;
  logger: Logger;
  /** Overrides config.guest.channelDir (`--channel-dir`). */
  channelDir?: string;
  connector?: ChannelConnector;
}

/**
 * guestServer: runs on every worker. Finds the VMs' heartbeat channels, runs one GuestInstance per VM,
 * takes commands from guestAgent and reports to it over UDP (reference A.7, A.10, A.11).
 */
export class GuestServer {
  readonly instances = new Map<string, GuestInstance>();
  readonly hostname: string;
  readonly channelDir: string;
  hostReporting = false;
  private socket: UdpSocket | undefined;
  private agent: { address: string; port: number };
  /** Set once guestAgent has spoken; until then MONITOR_READY is repeated. */
  private agentHeard = false;
  private readyTimer: TimerHandle | undefined;
  private readonly watcher: ChannelWatcher;
  private readonly ctx: InstanceContext;
  private readonly rate: RateLimitedLog;
  private readonly log: Logger;
  private readonly sender: PacedUdpSender;

  constructor(private readonly opts: GuestServerOptions) {
    const { config } = opts;
    const g = config.guest;
    this.hostname = config.node.hostname;
    this.channelDir = opts.channelDir ?? g.channelDir;
    this.log = opts.logger.child({ svc: "guestServer" });
    this.rate = new RateLimitedLog(this.log, opts.clock);
    this.sender = new PacedUdpSender(() => this.socket, opts.clock);
    // QUIRK fixed (A.16): the original could only answer the source of the agent's last datagram, so
    // nothing (not even READY) reached the agent before it spoke first. The agent's address is configured.
    this.agent = { address: g.server.agentAddress ?? config.networks.mgmt.controller ?? "127.0.0.1", port: g.agent.port };
    const timers: ServerTimers = {
      minIntervalMs: g.server.minIntervalMs,
      failureThreshold: g.server.failureThreshold,
      connectMaxSeconds: g.server.connectMaxSeconds,
      heartbeatStartSeconds: g.server.heartbeatStartSeconds,
      waitForInitSeconds: g.server.waitForInitSeconds,
    };
    this.ctx = {
      clock: opts.clock,
      log: this.log,
      connector: opts.connector ?? new UnixChannelConnector(),
      hostname: this.hostname,
      timers,
      hostReporting: () => this.hostReporting,
      report: (code, payload) => this.sendToAgent(code, payload),
      badInput: (key, obj, msg) => this.rate.warn(key, obj, msg),
      socketExists: (path) => {
        try {
          return statSync(path).isSocket();
        } catch {
          return false;
        }
      },
    };
    this.watcher = new ChannelWatcher(this.channelDir, opts.clock, this.log, Math.max(1, g.server.rescanSeconds) * 1000, {
      added: (uuid, path) => this.channelAdded(uuid, path),
      removed: (uuid) => this.removeInstance(uuid),
    });
  }

  /** Bind UDP, load the channels already there, watch for more, announce READY. */
  async start(): Promise<{ port: number }> {
    const { config } = this.opts;
    const socket = await UdpSocket.bind({
      address: config.guest.server.address ?? config.networks.mgmt.address ?? "127.0.0.1",
      port: config.guest.server.port,
      auth: datagramAuthFor(config, this.log),
      label: "guestServer",
      onMessage: (data, rinfo) => this.onDatagram(data, rinfo),
    });
    socket.onError((err) => this.log.error({ err: err.message }, "guestServer UDP socket error"));
    this.socket = socket;
    this.watcher.start();
    this.sendReady();
    const port = socket.address().port;
    this.log.info({ port, channelDir: this.channelDir, agent: this.agent }, "guestServer started");
    return { port };
  }

  async stop(): Promise<void> {
    this.opts.clock.clearTimeout(this.readyTimer);
    this.watcher.stop();
    for (const inst of this.instances.values()) inst.destroy();
    this.instances.clear();
    const s = this.socket;
    this.socket = undefined;
    if (s) await s.close();
  }

  instance(uuid: string): GuestInstance | undefined {
    return this.instances.get(uuid.toLowerCase());
  }

  /** MONITOR_READY every readyRetrySeconds until guestAgent answers. */
  private sendReady(): void {
    if (this.agentHeard || !this.socket) return;
    this.sendToAgent(GuestEvent.MTC_EVENT_MONITOR_READY, { hostname: this.hostname });
    this.readyTimer = this.opts.clock.setTimeout(() => this.sendReady(), this.opts.config.guest.server.readyRetrySeconds * 1000);
  }

  private sendToAgent(code: number, payload: Payload): void {
    if (!this.socket) return;
    let data: Buffer;
    try {
      data = encodeGuestDatagram(code, payload);
    } catch (err) {
      this.log.error({ code: guestCodeName(code), err: (err as Error).message }, "event too large for the mtc message; not sent");
      return;
    }
    this.sender.send(data, this.agent.port, this.agent.address, (err) =>
      this.rate.warn("send", { err: err.message, agent: this.agent }, "cannot send to guestAgent"),
    );
  }

  // ---- instances -------------------------------------------------------------------------------

  private getOrAdd(uuid: string): GuestInstance {
    const key = uuid.toLowerCase();
    let inst = this.instances.get(key);
    if (!inst) {
      inst = new GuestInstance(key, this.ctx);
      this.instances.set(key, inst);
      this.log.info({ uuid: key }, "guest instance added");
    }
    return inst;
  }

  /** virtio_channel_add; a replaced socket (MODIFY) is a full re-add that keeps the reporting state. */
  private channelAdded(uuid: string, path: string): void {
    const old = this.instances.get(uuid);
    if (old?.channelPath === path && old.connected) {
      old.destroy();
      this.instances.delete(uuid);
      const fresh = this.getOrAdd(uuid);
      fresh.reporting = old.reporting;
      fresh.attach(path);
      return;
    }
    this.getOrAdd(uuid).attach(path);
  }

  private removeInstance(uuid: string): void {
    const inst = this.instances.get(uuid);
    if (!inst) return;
    inst.destroy();
    this.instances.delete(uuid);
    this.log.info({ uuid }, "guest instance removed");
  }

  // ---- guestAgent commands ---------------------------------------------------------------------

  private onDatagram(data: Buffer, rinfo: RemoteInfo): void {
    const d = decodeGuestDatagram(data);
    if (!d.ok) {
      this.rate.warn(`bad:${rinfo.address}`, { from: rinfo.address, reason: d.reason }, "bad datagram from guestAgent");
      return;
    }
    if (!this.agentHeard) {
      this.agentHeard = true;
      this.opts.clock.clearTimeout(this.readyTimer);
    }
    // Answer where the agent speaks from (its source port is its receive port).
    this.agent = { address: rinfo.address, port: rinfo.port };
    this.handleCommand(d.cmd, d.payload);
  }

  private handleCommand(cmd: number, p: Payload): void {
    const uuid = text(p, "uuid")?.toLowerCase();
    switch (cmd) {
      case GuestCmd.MTC_CMD_ADD_INST:
      case GuestCmd.MTC_CMD_MOD_INST: {
        if (uuid?.length !== 36) {
          this.rate.warn("inst-uuid", { cmd: guestCodeName(cmd) }, "instance command without a uuid");
          return;
        }
        const inst = this.getOrAdd(uuid);
        if (!inst.channelPath) {
          const path = join(this.channelDir, channelFileName(uuid));
          if (this.ctx.socketExists(path)) inst.attach(path);
        }
        inst.setReporting(text(p, "state") === "enabled");
        return;
      }
      case GuestCmd.MTC_CMD_DEL_INST:
        if (uuid) {
          this.watcher.forget(uuid);
          this.removeInstance(uuid);
        }
        return;
      case GuestCmd.MTC_CMD_MOD_HOST:
        this.hostReporting = text(p, "heartbeat") === "enabled";
        this.log.info({ reporting: this.hostReporting }, "host reporting set");
        return;
      case GuestCmd.MTC_CMD_QRY_INST:
        for (const inst of this.instances.values()) this.sendToAgent(GuestEvent.MTC_CMD_QRY_INST, { ...inst.info() });
        return;
      case GuestCmd.MTC_CMD_VOTE_INST:
      case GuestCmd.MTC_CMD_NOTIFY_INST: {
        const inst = uuid ? this.instances.get(uuid) : undefined;
        const event = text(p, "event");
        if (!inst || !event || event.length > MAX_VALUE_SIZE) {
          this.rate.warn("action", { uuid, event }, "vote/notify for an unknown instance or without an event");
          return;
        }
        const notification: NotificationType = cmd === GuestCmd.MTC_CMD_VOTE_INST ? "revocable" : "irrevocable";
        inst.requestAction(event, notification);
        return;
      }
      case GuestCmd.MTC_EVENT_LOOPBACK:
        return;
      default:
        this.rate.warn(`cmd:${cmd}`, { cmd: guestCodeName(cmd) }, "unknown command from guestAgent");
    }
  }
}
