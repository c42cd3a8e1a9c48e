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
