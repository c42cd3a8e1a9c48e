import type { NetworkName } from "../transport/transport.js";
import { MtcCmd } from "./mtc-codes.js";
import { type MtcMessage, mtcJsonPayload, mtcMessage, Signature } from "./mtc-message.js";

/** Interface names as the reference writes them in the mtcAlive JSON. */
export const INTERFACE_LABEL: Readonly<Record<NetworkName, "Mgmnt" | "Clstr" | "Pxeboot">> = { mgmt: "Mgmnt", clusterHost: "Clstr", pxeboot: "Pxeboot" };
const NETWORK_BY_LABEL: Readonly<Record<string, NetworkName>> = { Mgmnt: "mgmt", Clstr: "clusterHost", Pxeboot: "pxeboot" };

/** The buf JSON of an mtcAlive (mtcCompMsg.cpp: create_mtcAlive_msg). */
export interface MtcAlivePayload {
  hostname: string;
  personality: string;
  mgmt_ip?: string;
  cluster_host_ip?: string;
  pxeboot_ip?: string;
  mgmt_mac?: string;
  interface: "Mgmnt" | "Clstr" | "Pxeboot";
  sequence: number;
}

export interface MtcAlive {
  /** parm[0]: seconds since boot. */
  uptime: number;
  /** parm[1]: MtcHealth. */
  health: number;
  /** parm[2]: MtcFlag bits. */
  flags: number;
  /** parm[3]: the per-interface sequence number. */
  sequence: number;
  payload: MtcAlivePayload;
}

/** The mtcAlive message: header "cgts mtc message:", ver 0, cmd 5, num 4, JSON in buf. */
export function mtcAliveMessage(alive: MtcAlive): MtcMessage {
  return mtcMessage({
    signature: Signature.workerMsg,
    cmd: MtcCmd.MTC_MSG_MTCALIVE,
    // The original client builds the mtcAlive from a zeroed struct: ver stays 0 (MTC_CMD_VERSION is for commands).
    ver: 0,
    num: 4,
    parm: [alive.uptime >>> 0, alive.health >>> 0, alive.flags >>> 0, alive.sequence >>> 0, 0],
    buf: JSON.stringify(alive.payload),
  });
}

const MAX_FIELD = 128;
const str = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= MAX_FIELD;

/** Read an mtcAlive back; a clear reason when its JSON is missing, malformed or hostile. Never throws. */
export function parseMtcAlive(msg: MtcMessage): { ok: true; alive: MtcAlive; network?: NetworkName } | { ok: false; reason: string } {
  if (msg.cmd !== MtcCmd.MTC_MSG_MTCALIVE) return { ok: false, reason: `not an mtcAlive (cmd ${msg.cmd})` };
  const json = mtcJsonPayload(msg);
  if (!json.ok) return json;
  const v = json.value as Record<string, unknown> | null;
  if (!v || typeof v !== "object" || Array.isArray(v)) return { ok: false, reason: "mtcAlive buf is not a JSON object" };
  if (!str(v.hostname)) return { ok: false, reason: "mtcAlive without a valid hostname" };
  const payload: MtcAlivePayload = {
    hostname: v.hostname,
    personality: str(v.personality) ? v.personality : "",
    interface: typeof v.interface === "string" && v.interface in NETWORK_BY_LABEL ? (v.interface as MtcAlivePayload["interface"]) : "Mgmnt",
    sequence: typeof v.sequence === "number" && Number.isInteger(v.sequence) && v.sequence >= 0 ? v.sequence : msg.parm[3],
  };
  for (const k of ["mgmt_ip", "cluster_host_ip", "pxeboot_ip", "mgmt_mac"] as const) if (str(v[k])) payload[k] = v[k];
  const network = typeof v.interface === "string" ? NETWORK_BY_LABEL[v.interface] : undefined;
  return {
    ok: true,
    alive: { uptime: msg.parm[0], health: msg.parm[1], flags: msg.parm[2], sequence: msg.parm[3], payload },
    ...(network ? { network } : {}),
  };
}

/** A JSON object payload (events, goenabled, commands) or a reason. */
export function mtcJsonObject(msg: MtcMessage): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  const json = mtcJsonPayload(msg);
  if (!json.ok) return json;
  const v = json.value;
  if (!v || typeof v !== "object" || Array.isArray(v)) return { ok: false, reason: "buf is not a JSON object" };
  return { ok: true, value: v as Record<string, unknown> };
}
