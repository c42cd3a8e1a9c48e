import type { RemoteInfo } from "node:dgram";
import type { Server } from "node:http";
import type { MetalConfig } from "@metal/core/config/index";
import { RateLimitedLog } from "@metal/core/logging/index";
import type { Clock, Logger, TimerHandle } from "@metal/core/plugin-api";
import { datagramAuthFor } from "@metal/core/transport/datagram-auth";
import { UdpSocket } from "@metal/core/transport/udp-socket";
import { decodeMtcMessage, signatureName } from "@metal/core/wire/index";
import { vimActionTimeoutSecs } from "../action-timeouts.js";
import { GuestCmd, GuestEvent, guestCodeName, InventoryCmd } from "../udp/codes.js";
import { decodeGuestDatagram, encodeGuestDatagram, GUEST_SIGNATURE, type Payload, text } from "../udp/guest-datagram.js";
import { readInstInfo } from "../udp/inst-info.js";
import { PacedUdpSender } from "../udp/paced-sender.js";
import { startApiServer } from "./api-server.js";
import { type AgentHost, type AgentInstance, AgentInventory, onOff, servicesBody } from "./inventory.js";
import type { AgentOps, ApiResult } from "./vim-api.js";
import { type GuestResponse, VimClient } from "./vim-client.js";

export interface GuestAgentOptions {
  config: MetalConfig;
  clock: Clock;
  logger: Logger;
}

export interface GuestAgentPorts {
  udp: number;
  inventory: number;
  api: number;
}

/**
 * guestAgent: runs on the active controller. Keeps the host/instance inventory, serves the VIM's HTTP
 * API, proxies it to the guestServers over UDP, turns their events into VIM events, and audits every
 * 10 s with QRY_INST where its own reporting state wins (reference A.11-A.14).
 */
export class GuestAgent implements AgentOps {
  readonly inventory = new AgentInventory();
  readonly vim: VimClient;
  private udp: UdpSocket | undefined;
  private inventorySocket: UdpSocket | undefined;
  private api: Server | undefined;
  private auditTimer: TimerHandle | undefined;
  private readonly log: Logger;
  private readonly rate: RateLimitedLog;
  private readonly source: string;
  private readonly sender: PacedUdpSender;
  private lastInventoryRequest = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: GuestAgentOptions) {
    const a = opts.config.guest.agent;
    this.log = opts.logger.child({ svc: "guestAgent" });
    this.rate = new RateLimitedLog(this.log, opts.clock);
    this.vim = new VimClient(a.vimUrl.replace(/\/$/, ""), opts.clock, this.log, a.vimTimeoutSeconds * 1000, a.vimRetries);
    this.source = opts.config.networks.mgmt.controller ?? a.address ?? "127.0.0.1";
    this.sender = new PacedUdpSender(() => this.udp, opts.clock);
    for (const h of a.hosts) this.inventory.upsertHost(h);
  }

  async start(): Promise<GuestAgentPorts> {
    const { config } = this.opts;
    const a = config.guest.agent;
    const bindAddress = a.address ?? config.networks.mgmt.address ?? "127.0.0.1";
    this.udp = await bindUdp(bindAddress, a.port, (data, rinfo) => this.onServerDatagram(data, rinfo), this.log, config);
    this.inventorySocket = await bindUdp(bindAddress, config.ports.guestCmd, (data) => this.onInventoryDatagram(data), this.log, config);
    const api = await startApiServer(a.apiAddress, a.apiPort, this, this.log);
    this.api = api.server;
    this.requestInventory();
    // The original's audit: first after 2 s, then every auditSeconds.
    const audit = (delay: number) => {
      this.auditTimer = this.opts.clock.setTimeout(() => {
        void this.audit().finally(() => audit(a.auditSeconds * 1000));
      }, delay);
    };
    audit(2000);
    const ports = { udp: this.udp.address().port, inventory: this.inventorySocket.address().port, api: api.port };
    this.log.info({ ...ports, vim: a.vimUrl }, "guestAgent started");
    return ports;
  }

  async stop(): Promise<void> {
    this.opts.clock.clearTimeout(this.auditTimer);
    const closing: Promise<void>[] = [];
    for (const s of [this.udp, this.inventorySocket]) if (s) closing.push(s.close());
    const api = this.api;
    if (api) {
      api.closeAllConnections();
      closing.push(new Promise((r) => api.close(() => r())));
    }
    this.udp = this.inventorySocket = this.api = undefined;
    await Promise.all(closing);
  }

  // ---- to guestServers -------------------------------------------------------------------------

  private sendToServer(host: AgentHost, cmd: number, payload: Payload): void {
    if (!this.udp) return;
    const to = host.server ?? { address: host.ip, port: this.opts.config.guest.server.port };
    let data: Buffer;
    try {
      data = encodeGuestDatagram(cmd, { source: this.source, ...payload });
    } catch (err) {
      this.log.error({ cmd: guestCodeName(cmd), err: (err as Error).message }, "command too large; not sent");
      return;
    }
    this.sender.send(data, to.port, to.address, (err) =>
      this.rate.warn(`send:${host.hostname}`, { host: host.hostname, err: err.message }, "cannot send to guestServer"),
    );
  }

  private sendInstance(cmd: number, inst: AgentInstance): void {
    const host = this.inventory.hostByName(inst.hostname);
    if (host)
      this.sendToServer(host, cmd, { uuid: inst.uuid, service: "heartbeat", state: cmd === GuestCmd.MTC_CMD_DEL_INST ? "disabled" : onOff(inst.reporting) });
  }

  // ---- AgentOps: the VIM API -------------------------------------------------------------------

  hostKnown(hostUuid: string): boolean {
    return this.inventory.hosts.has(hostUuid);
  }

  /** MONITOR_READY to mtcAgent, which answers with ADD_HOST for every host; at most once per 5 s. */
  requestInventory(): void {
    const now = this.opts.clock.now();
    if (now - this.lastInventoryRequest < 5000) return;
    this.lastInventoryRequest = now;
    const { config } = this.opts;
    const controller = config.networks.mgmt.controller ?? "127.0.0.1";
    const udp = this.inventorySocket;
    if (!udp) return;
    const data = encodeGuestDatagram(GuestEvent.MTC_EVENT_MONITOR_READY, { hostname: config.node.hostname, service: "guestAgent" });
    udp.send(data, config.ports.hbsEvent, controller, (err) => {
      if (err) this.rate.warn("inventory", { err: err.message }, "cannot ask mtcAgent for the inventory");
    });
  }

  setHostReporting(hostUuid: string, _hostname: string, enabled: boolean): ApiResult<void> {
    const host = this.inventory.hosts.get(hostUuid);
    if (!host) return { ok: false, status: 404, reason: "entity not found" };
    host.reporting = enabled;
    host.stateFetched = true;
    this.sendToServer(host, GuestCmd.MTC_CMD_MOD_HOST, { uuid: host.uuid, heartbeat: onOff(enabled) });
    return { ok: true, value: undefined };
  }

  hostState(hostUuid: string): ApiResult<Record<string, unknown>> {
    const host = this.inventory.hosts.get(hostUuid);
    if (!host) return { ok: false, status: 404, reason: "entity not found" };
    return { ok: true, value: { uuid: host.uuid, hostname: host.hostname, state: onOff(host.reporting) } };
  }

  addInstance(uuid: string, hostname: string, reporting: boolean): ApiResult<void> {
    if (!this.inventory.hostByName(hostname)) return { ok: false, status: 400, reason: "invalid data" };
    const old = this.inventory.instances.get(uuid);
    // A POST for an instance known on another host is a move: the old host's guestServer lets it go.
    if (old && old.hostname !== hostname) this.sendInstance(GuestCmd.MTC_CMD_DEL_INST, old);
    const inst = this.inventory.upsertInstance(uuid, hostname, reporting);
    this.sendInstance(GuestCmd.MTC_CMD_ADD_INST, inst);
    return { ok: true, value: undefined };
  }

  modInstance(uuid: string, hostname: string | undefined, reporting: boolean): ApiResult<Record<string, unknown>> {
    const known = this.inventory.instances.get(uuid);
    const onHost = hostname ?? known?.hostname;
    if (!onHost || !this.inventory.hostByName(onHost)) return { ok: false, status: known ? 400 : 404, reason: known ? "invalid data" : "entity not found" };
    const inst = this.inventory.upsertInstance(uuid, onHost, reporting);
    this.sendInstance(GuestCmd.MTC_CMD_MOD_INST, inst);
    return { ok: true, value: servicesBody(inst) };
  }

  instanceState(uuid: string): ApiResult<Record<string, unknown>> {
    const inst = this.inventory.instances.get(uuid);
    return inst ? { ok: true, value: servicesBody(inst) } : { ok: false, status: 404, reason: "entity not found" };
  }

  delInstance(uuid: string): void {
    const inst = this.inventory.instances.get(uuid);
    if (!inst) return;
    this.sendInstance(GuestCmd.MTC_CMD_DEL_INST, inst);
    this.inventory.instances.delete(uuid);
  }

  action(uuid: string, kind: "vote" | "notify", event: string): ApiResult<{ timeout: number; hostname: string }> {
    const inst = this.inventory.instances.get(uuid);
    if (!inst) return { ok: false, status: 404, reason: "entity not found" };
    // Only a heartbeating guest can answer; otherwise nothing is forwarded and the timeout is 0.
    if (!inst.heartbeating) return { ok: true, value: { timeout: 0, hostname: inst.hostname } };
    const host = this.inventory.hostByName(inst.hostname);
    if (host) this.sendToServer(host, kind === "vote" ? GuestCmd.MTC_CMD_VOTE_INST : GuestCmd.MTC_CMD_NOTIFY_INST, { uuid, event });
    return { ok: true, value: { timeout: vimActionTimeoutSecs(kind, event, inst.timeouts), hostname: inst.hostname } };
  }

  // ---- from guestServers -----------------------------------------------------------------------

  private onServerDatagram(data: Buffer, rinfo: RemoteInfo): void {
    const d = decodeGuestDatagram(data);
    if (!d.ok) {
      this.rate.warn(`bad:${rinfo.address}`, { from: rinfo.address, reason: d.reason }, "bad datagram from a guestServer");
      return;
    }
    const hostname = text(d.payload, "hostname");
    const host = hostname ? this.inventory.hostByName(hostname) : undefined;
    if (!host) {
      this.rate.warn(`unknown:${hostname}`, { hostname, event: guestCodeName(d.cmd) }, "event from a guestServer on an unknown host");
      this.requestInventory();
      return;
    }
    host.server = { address: rinfo.address, port: rinfo.port };
    this.handleServerEvent(host, d.cmd, d.payload);
  }

  private handleServerEvent(host: AgentHost, cmd: number, p: Payload): void {
    if (cmd === GuestEvent.MTC_EVENT_MONITOR_READY) {
      this.log.info({ host: host.hostname }, "guestServer ready");
      this.sendToServer(host, GuestCmd.MTC_CMD_MOD_HOST, { uuid: host.uuid, heartbeat: onOff(host.reporting) });
      for (const inst of this.inventory.instancesOf(host.hostname)) this.sendInstance(GuestCmd.MTC_CMD_MOD_INST, inst);
      return;
    }
    const uuid = text(p, "uuid")?.toLowerCase();
    const inst = uuid ? this.inventory.instances.get(uuid) : undefined;
    if (!uuid || !inst) {
      if (uuid && cmd === GuestEvent.MTC_CMD_QRY_INST) this.sendToServer(host, GuestCmd.MTC_CMD_DEL_INST, { uuid, service: "heartbeat", state: "disabled" });
      else this.rate.warn(`inst:${uuid}`, { uuid, event: guestCodeName(cmd) }, "event for an instance the agent does not know");
      return;
    }
    switch (cmd) {
      case GuestEvent.MTC_EVENT_HEARTBEAT_RUNNING:
      case GuestEvent.MTC_EVENT_HEARTBEAT_STOPPED:
      case GuestEvent.MTC_CMD_QRY_INST:
        this.onInstInfo(host, inst, cmd, p);
        return;
      case GuestEvent.MTC_EVENT_HEARTBEAT_ILLHEALTH: {
        const info = readInstInfo(p);
        if (info && host.reporting && inst.reporting) this.vim.alarm(uuid, inst.hostname, "unhealthy", info["repair-action"]);
        return;
      }
      case GuestEvent.MTC_EVENT_HEARTBEAT_LOSS:
        inst.heartbeating = false;
        if (host.reporting && inst.reporting) {
          this.log.error({ uuid, host: host.hostname, action: inst.repairAction }, "guest heartbeat loss");
          this.vim.alarm(uuid, inst.hostname, "failed", inst.repairAction);
        }
        return;
      case GuestEvent.MTC_EVENT_VOTE_NOTIFY:
        this.onVoteNotify(uuid, p);
        return;
      default:
        this.rate.warn(`cmd:${cmd}`, { cmd: guestCodeName(cmd) }, "unknown event from a guestServer");
    }
  }

  private onInstInfo(host: AgentHost, inst: AgentInstance, cmd: number, p: Payload): void {
    const info = readInstInfo(p);
    if (!info) return;
    if (cmd === GuestEvent.MTC_CMD_QRY_INST) {
      host.queryMisses = 0;
      if (inst.hostname !== host.hostname) {
        // The instance lives elsewhere now: this server lets it go.
        this.sendToServer(host, GuestCmd.MTC_CMD_DEL_INST, { uuid: inst.uuid, service: "heartbeat", state: "disabled" });
        return;
      }
      // The agent's reporting state is authoritative: push it back when the server differs.
      if ((info.reporting === "enabled") !== inst.reporting) this.sendInstance(GuestCmd.MTC_CMD_MOD_INST, inst);
    }
    if (this.inventory.applyInfo(inst, info)) {
      this.log.info({ uuid: inst.uuid, heartbeating: inst.heartbeating }, "guest heartbeat state changed");
      this.vim.serviceEvent(inst.uuid, inst.hostname, inst.reporting, inst.heartbeating, String(inst.timeouts.restart));
    }
  }

  private onVoteNotify(uuid: string, p: Payload): void {
    const vote = text(p, "vote") ?? "";
    const revocable = text(p, "notification_type") === "revocable";
    let response: GuestResponse;
    if (vote === "reject") response = "reject";
    // A timeout means the guest did not object in time: agreement, as the host's own vote timer treats
    // it (the original left this empty and relied on the VIM's default).
    else if (vote === "accept" || vote === "complete" || vote === "timeout") response = revocable ? "allow" : "proceed";
    else response = "";
    this.vim.action(uuid, text(p, "event-type") ?? "unknown", response, text(p, "reason") ?? "");
  }

  // ---- from mtcAgent ---------------------------------------------------------------------------

  private onInventoryDatagram(data: Buffer): void {
    const m = decodeMtcMessage(data);
    if (!m.ok || (signatureName(m.msg.signature) === undefined && m.msg.signature !== GUEST_SIGNATURE)) {
      this.rate.warn("inventory-bad", { reason: m.ok ? `signature '${m.msg.signature}'` : m.reason }, "bad inventory datagram");
      return;
    }
    const d = decodeGuestDatagram(data);
    if (!d.ok) {
      this.rate.warn("inventory-json", { reason: d.reason }, "bad inventory payload");
      return;
    }
    const hostname = text(d.payload, "hostname");
    const uuid = text(d.payload, "uuid")?.toLowerCase();
    const ip = text(d.payload, "ip");
    switch (d.cmd) {
      case InventoryCmd.MTC_CMD_ADD_HOST:
      case InventoryCmd.MTC_CMD_MOD_HOST:
        if (!hostname || uuid?.length !== 36 || !ip) {
          this.rate.warn("inventory-fields", { hostname, uuid }, "inventory command without hostname/uuid/ip");
          return;
        }
        this.inventory.upsertHost({ hostname, uuid, ip, ...(text(d.payload, "personality") ? { personality: text(d.payload, "personality")! } : {}) });
        this.log.info({ hostname, ip }, "host added to the guest inventory");
        return;
      case InventoryCmd.MTC_CMD_DEL_HOST: {
        const host = uuid ? this.inventory.hosts.get(uuid) : hostname ? this.inventory.hostByName(hostname) : undefined;
        if (host) {
          this.inventory.hosts.delete(host.uuid);
          for (const inst of this.inventory.instancesOf(host.hostname)) this.inventory.instances.delete(inst.uuid);
        }
        return;
      }
      default:
        this.rate.warn(`inventory-cmd:${d.cmd}`, { cmd: guestCodeName(d.cmd) }, "unknown inventory command");
    }
  }

  // ---- audit -----------------------------------------------------------------------------------

  /** One audit pass: fetch what the VIM knows (once per host), then query every reporting host's server. */
  async audit(): Promise<void> {
    for (const host of [...this.inventory.hosts.values()]) {
      if (!host.stateFetched) {
        const state = await this.vim.hostState(host.uuid, host.hostname);
        if (state !== undefined) {
          host.stateFetched = true;
          host.reporting = state;
          this.sendToServer(host, GuestCmd.MTC_CMD_MOD_HOST, { uuid: host.uuid, heartbeat: onOff(state) });
        }
      }
      if (!host.instancesFetched) {
        const list = await this.vim.hostInstances(host.uuid);
        if (list) {
          host.instancesFetched = true;
          for (const i of list) {
            if (i.hostname !== host.hostname) continue;
            this.sendInstance(GuestCmd.MTC_CMD_MOD_INST, this.inventory.upsertInstance(i.uuid, i.hostname, i.reporting));
          }
        }
      }
      if (host.reporting && this.inventory.instancesOf(host.hostname).length > 0) {
        host.queryMisses++;
        if (host.queryMisses > 3)
          this.rate.warn(`qry:${host.hostname}`, { host: host.hostname, misses: host.queryMisses }, "guestServer does not answer queries");
        this.sendToServer(host, GuestCmd.MTC_CMD_QRY_INST, {});
      }
    }
  }
}

async function bindUdp(
  address: string,
  port: number,
  onMessage: (data: Buffer, rinfo: RemoteInfo) => void,
  log: Logger,
  config: MetalConfig,
): Promise<UdpSocket> {
  const socket = await UdpSocket.bind({ address, port, auth: datagramAuthFor(config, log), label: `guestAgent ${port}`, onMessage });
  socket.onError((err) => log.error({ err: err.message }, "guestAgent UDP socket error"));
  return socket;
}
