import { DEFAULT_GUEST_TIMEOUTS, type GuestTimeouts } from "../action-timeouts.js";
import type { InstInfo } from "../udp/inst-info.js";

/** A worker (or AIO) host as guestAgent knows it: from mtcAgent's inventory, reporting from the VIM. */
export interface AgentHost {
  hostname: string;
  uuid: string;
  ip: string;
  personality?: string;
  /** Host-level reporting (the VIM's PUT /v1/hosts/<uuid>/enable|disable, or its host state). */
  reporting: boolean;
  /** Where this host's guestServer speaks from, once it has spoken. */
  server?: { address: string; port: number };
  stateFetched: boolean;
  instancesFetched: boolean;
  queryMisses: number;
}

export interface AgentInstance {
  uuid: string;
  hostname: string;
  /** Instance reporting: the agent's value is authoritative (A.14). */
  reporting: boolean;
  heartbeating: boolean;
  repairAction: string;
  timeouts: GuestTimeouts;
}

/** guestAgent's host and instance tables. */
export class AgentInventory {
  readonly hosts = new Map<string, AgentHost>();
  readonly instances = new Map<string, AgentInstance>();

  hostByName(hostname: string): AgentHost | undefined {
    for (const h of this.hosts.values()) if (h.hostname === hostname) return h;
    return undefined;
  }

  upsertHost(h: { hostname: string; uuid: string; ip: string; personality?: string }): AgentHost {
    const known = this.hosts.get(h.uuid) ?? this.hostByName(h.hostname);
    if (known) {
      if (known.uuid !== h.uuid) this.hosts.delete(known.uuid);
      Object.assign(known, { hostname: h.hostname, uuid: h.uuid, ip: h.ip }, h.personality ? { personality: h.personality } : {});
      this.hosts.set(h.uuid, known);
      return known;
    }
    const host: AgentHost = { ...h, reporting: false, stateFetched: false, instancesFetched: false, queryMisses: 0 };
    this.hosts.set(h.uuid, host);
    return host;
  }

  instancesOf(hostname: string): AgentInstance[] {
    return [...this.instances.values()].filter((i) => i.hostname === hostname);
  }

  upsertInstance(uuid: string, hostname: string, reporting: boolean): AgentInstance {
    const inst = this.instances.get(uuid);
    if (inst) {
      inst.hostname = hostname;
      inst.reporting = reporting;
      return inst;
    }
    const created: AgentInstance = { uuid, hostname, reporting, heartbeating: false, repairAction: "unknown", timeouts: { ...DEFAULT_GUEST_TIMEOUTS } };
    this.instances.set(uuid, created);
    return created;
  }

  /** Take the guestServer's view of timeouts and repair action; returns true when heartbeating changed. */
  applyInfo(inst: AgentInstance, info: InstInfo): boolean {
    const num = (s: string, fallback: number) => {
      const n = Number(s);
      return Number.isFinite(n) && n >= 0 ? n : fallback;
    };
    inst.repairAction = info["repair-action"];
    inst.timeouts = {
      vote: num(info["vote-to"], inst.timeouts.vote),
      shutdown: num(info["shutdown-to"], inst.timeouts.shutdown),
      suspend: num(info["suspend-to"], inst.timeouts.suspend),
      resume: num(info["resume-to"], inst.timeouts.resume),
      restart: num(info["restart-to"], inst.timeouts.restart),
    };
    const heartbeating = info.heartbeating === "enabled";
    const changed = heartbeating !== inst.heartbeating;
    inst.heartbeating = heartbeating;
    return changed;
  }
}

export const onOff = (b: boolean): "enabled" | "disabled" => (b ? "enabled" : "disabled");

/** The services block the VIM reads back (GET/PATCH /v1/instances/<uuid>, A.12). */
export function servicesBody(inst: AgentInstance) {
  return {
    uuid: inst.uuid,
    hostname: inst.hostname,
    services: [
      {
        service: "heartbeat",
        state: onOff(inst.reporting),
        "restart-timeout": inst.heartbeating ? String(inst.timeouts.restart) : "0",
        status: onOff(inst.heartbeating),
      },
    ],
  };
}
