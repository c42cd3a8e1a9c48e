import { isIP } from "node:net";
import type { HostRecord } from "./store.js";

/** X.731 states and admin actions of reference §2.1 (string tables of nodeClass.cpp). */
export type AdminState = HostRecord["administrative"];
export type OperState = HostRecord["operational"];
export const AVAIL_STATES = ["not-installed", "available", "degraded", "failed", "intest", "power-off", "offline", "online", "offduty"] as const;
export type AvailStatus = (typeof AVAIL_STATES)[number];

export const ADMIN_ACTIONS = [
  "none",
  "lock",
  "unlock",
  "reset",
  "reboot",
  "reinstall",
  "power-off",
  "power-on",
  "recovery",
  "delete",
  "powercycle",
  "add",
  "swact",
  "force-lock",
  "force-swact",
  "enable",
  "enable-subf",
] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/** DEGRADE_MASK_* bits (reference §2.1). */
export const DegradeMask = {
  HeartbeatMgmt: 0x1,
  HeartbeatClstr: 0x2,
  Pmon: 0x4,
  InsvTest: 0x8,
  AvsMajor: 0x10,
  AvsCritical: 0x20,
  Resmon: 0x40,
  Hwmon: 0x80,
  Subf: 0x100,
  Sm: 0x200,
  Config: 0x400,
  Collectd: 0x800,
  Enable: 0x1000,
  Luks: 0x2000,
} as const;

/** Auto-recovery causes (reference §2.5). */
export const AR_CAUSES = ["config", "goenable", "hostservices", "heartbeat", "luks"] as const;
export type ArCause = (typeof AR_CAUSES)[number];

/** MTC_TASK_AR_DISABLED_* strings: persisted as the task so an agent restart restores ar_disabled. */
export const AR_DISABLED_TASK: Readonly<Record<ArCause, string>> = {
  config: "Configuration failure, threshold reached, Lock/Unlock to retry",
  goenable: "In-Test Failure, threshold reached, Lock/Unlock to retry",
  hostservices: "Service Failure, threshold reached, Lock/Unlock to retry",
  heartbeat: "Heartbeat Failure, threshold reached, Lock/Unlock to retry",
  luks: "LUKS volume failure, threshold reached, Lock/Unlock to retry",
};

export interface NewHost {
  hostname: string;
  personality: HostRecord["personality"];
  subfunctions?: string[];
  mgmtIp?: string;
  mgmtMac?: string;
  clusterHostIp?: string;
  pxebootIp?: string;
  bmc?: HostRecord["bmc"];
  administrative?: AdminState;
}

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,62})$/;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;
/** A DNS name (RFC 1123 labels), for a BMC reached by name. */
const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** What validateNewHost checks beyond the shape: the BMC types this agent can drive (a plugin's, or dynamic). */
export interface HostValidationContext {
  bmcTypes?: readonly string[];
}

/**
 * Validate operator input for a new host (or a host merged with a modify); returns the reason when it is
 * unusable. Addresses must be IPv4 or IPv6 (node:net isIP); a BMC address may also be a DNS name; with
 * `ctx.bmcTypes`, the BMC type must be one of them.
 */
export function validateNewHost(h: Partial<NewHost>, ctx: HostValidationContext = {}): string | undefined {
  if (typeof h !== "object" || h === null || Array.isArray(h)) return "a host is a JSON object";
  if (typeof h.hostname !== "string" || !HOSTNAME.test(h.hostname)) return "hostname: lower-case letters, digits and '-', at most 63";
  if (h.personality !== "controller" && h.personality !== "worker" && h.personality !== "storage") return "personality must be controller, worker or storage";
  if (
    h.subfunctions !== undefined &&
    (!Array.isArray(h.subfunctions) || h.subfunctions.some((s) => !["controller", "worker", "storage", "lowlatency"].includes(s)))
  )
    return "subfunctions: controller, worker, storage, lowlatency";
  if (h.mgmtMac !== undefined && (typeof h.mgmtMac !== "string" || !MAC.test(h.mgmtMac))) return "mgmtMac: six colon-separated hex octets";
  for (const k of ["mgmtIp", "clusterHostIp", "pxebootIp"] as const) {
    const v = h[k];
    if (v !== undefined && (typeof v !== "string" || isIP(v) === 0)) return `${k}: '${String(v).slice(0, 64)}' is not an IPv4 or IPv6 address`;
  }
  if (h.bmc !== undefined) {
    const b = h.bmc;
    if (typeof b !== "object" || b === null || typeof b.type !== "string" || typeof b.address !== "string" || typeof b.username !== "string")
      return "bmc: needs type, address and username";
    if (b.type.length > 32 || b.address.length > 64 || b.username.length > 64) return "bmc: field too long";
    if (b.port !== undefined && (!Number.isInteger(b.port) || b.port < 1 || b.port > 65535)) return "bmc.port: 1..65535";
    if (isIP(b.address) === 0 && !DNS_NAME.test(b.address)) return `bmc.address: '${b.address}' is not an IPv4 or IPv6 address or a DNS name`;
    if (/^[0-9.]+$/.test(b.address) && isIP(b.address) === 0) return `bmc.address: '${b.address}' is not an IPv4 address`;
    if (ctx.bmcTypes && !ctx.bmcTypes.includes(b.type)) return `bmc.type: no plugin provides BMC type '${b.type}' (known: ${ctx.bmcTypes.join(", ")})`;
    if (b.secretRef !== undefined && (typeof b.secretRef !== "string" || b.secretRef.length > 4096)) return "bmc.secretRef: a file path";
  }
  if (h.administrative !== undefined && h.administrative !== "locked" && h.administrative !== "unlocked") return "administrative must be locked or unlocked";
  return undefined;
}

/** A freshly added host: locked-disabled-offline with action add (reference add_host). */
export function newHostRecord(h: NewHost): HostRecord {
  const rec: HostRecord = {
    hostname: h.hostname,
    personality: h.personality,
    subfunctions: h.subfunctions ?? [h.personality],
    administrative: h.administrative ?? "locked",
    operational: "disabled",
    availability: "offline",
    action: "add",
    task: "",
    uptime: 0,
    degradeMask: 0,
  };
  if (h.mgmtIp) rec.mgmtIp = h.mgmtIp;
  if (h.mgmtMac) rec.mgmtMac = h.mgmtMac.toLowerCase();
  if (h.clusterHostIp) rec.clusterHostIp = h.clusterHostIp;
  if (h.pxebootIp) rec.pxebootIp = h.pxebootIp;
  if (h.bmc) rec.bmc = { ...h.bmc };
  if (isAio(rec)) {
    rec.subfunctionOper = "disabled";
    rec.subfunctionAvail = "offline";
  }
  return rec;
}

/** An AIO controller: a controller that also carries the worker subfunction (reference §8). */
export function isAio(h: Pick<HostRecord, "personality" | "subfunctions">): boolean {
  return h.personality === "controller" && h.subfunctions.includes("worker");
}

/** NODE_TYPE_MASK bits of reference §8 (controller 0x1, worker 0x2, storage 0x4). */
export function nodeTypeMask(h: Pick<HostRecord, "personality" | "subfunctions">): number {
  let m = 0;
  for (const f of [h.personality, ...h.subfunctions]) {
    if (f === "controller") m |= 0x1;
    if (f === "worker") m |= 0x2;
    if (f === "storage") m |= 0x4;
  }
  return m;
}

/** "unlocked-enabled-available" — how the reference and operators read a host's state. */
export function stateTriple(h: Pick<HostRecord, "administrative" | "operational" | "availability">): string {
  return `${h.administrative}-${h.operational}-${h.availability}`;
}
