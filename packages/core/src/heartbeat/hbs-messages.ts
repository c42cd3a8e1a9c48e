/**
 * The mtcAgent <-> hbsAgent messages, carried in the 1060-byte mtc message (reference mtce-core.md §1.5):
 * commands `"cgts mtc hbs cmd:"`, ver 2, num 1, parm[0] = node type mask, buf
 * `{"hostname":..,"mgmt_ip":..[,"cluster_host_ip":..]}`; events with the heartbeat signatures, num 1,
 * parm[0] = interface (0 mgmt, 1 cluster-host), buf `{"hostname":..,"service":"hbsAgent"}`.
 */
import type { HeartbeatEvent, HeartbeatHost } from "../agent/ports.js";
import { MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF, MtcCmd, MtcEvent } from "../wire/mtc-codes.js";
import { decodeMtcMessage, encodeMtcMessage, mtcJsonPayload, mtcMessage, Signature } from "../wire/mtc-message.js";

export type HbsNetwork = "mgmt" | "clusterHost";
export const HBS_NETWORKS: readonly HbsNetwork[] = ["mgmt", "clusterHost"];
export const IFACE_INDEX: Readonly<Record<HbsNetwork, number>> = { mgmt: 0, clusterHost: 1 };
export const HBS_IFACE_LABEL: Readonly<Record<HbsNetwork, string>> = { mgmt: "Mgmnt", clusterHost: "Clstr" };

export type HbsCommand =
  | { kind: "addHost"; host: HeartbeatHost }
  | { kind: "delHost"; hostname: string }
  | { kind: "startHost"; hostname: string }
  | { kind: "stopHost"; hostname: string }
  | { kind: "restartHost"; hostname: string }
  | { kind: "backoff" }
  | { kind: "recover" }
  | { kind: "activeController"; hostname: string };

const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;

const commandCode: Record<HbsCommand["kind"], number> = {
  addHost: MtcCmd.MTC_CMD_ADD_HOST,
  delHost: MtcCmd.MTC_CMD_DEL_HOST,
  startHost: MtcCmd.MTC_CMD_START_HOST,
  stopHost: MtcCmd.MTC_CMD_STOP_HOST,
  restartHost: MtcCmd.MTC_RESTART_HBS,
  backoff: MtcCmd.MTC_BACKOFF_HBS,
  recover: MtcCmd.MTC_RECOVER_HBS,
  activeController: MtcCmd.MTC_CMD_ACTIVE_CTRL,
};
const commandKind = new Map<number, HbsCommand["kind"]>(Object.entries(commandCode).map(([k, v]) => [v, k as HbsCommand["kind"]]));

/** Encode a command; `sender` is the mtcAgent's hostname, put in the buf of host-less commands. */
export function encodeHbsCommand(cmd: HbsCommand, sender = "controller"): Buffer {
  let payload: Record<string, unknown>;
  let nodeType = 0;
  switch (cmd.kind) {
    case "addHost":
      nodeType = cmd.host.nodeType;
      payload = { hostname: cmd.host.hostname, mgmt_ip: cmd.host.mgmtIp };
      if (cmd.host.clusterHostIp) payload.cluster_host_ip = cmd.host.clusterHostIp;
      break;
    case "backoff":
    case "recover":
      payload = { hostname: sender };
      break;
    default:
      payload = { hostname: cmd.hostname };
  }
  return encodeMtcMessage(
    mtcMessage({
      signature: Signature.hbsCmd,
      cmd: commandCode[cmd.kind],
      ver: MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF,
      num: 1,
      parm: [nodeType >>> 0, 0, 0, 0, 0],
      buf: JSON.stringify(payload),
    }),
  );
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

function hostnameOf(payload: unknown): string | undefined {
  const h = (payload as { hostname?: unknown } | null)?.hostname;
  return typeof h === "string" && HOSTNAME.test(h) ? h : undefined;
}

/** Decode a command datagram; bad signature, unknown code, bad JSON or hostile fields give a reason. */
export function decodeHbsCommand(data: Buffer): Decoded<HbsCommand> {
  const d = decodeMtcMessage(data);
  if (!d.ok) return d;
  if (d.msg.signature !== Signature.hbsCmd) return { ok: false, reason: `not an hbs command (signature '${d.msg.signature.slice(0, 17)}')` };
  const kind = commandKind.get(d.msg.cmd);
  if (!kind) return { ok: false, reason: `unknown hbs command 0x${d.msg.cmd.toString(16)}` };
  const json = mtcJsonPayload(d.msg);
  if (!json.ok) return json;
  const hostname = hostnameOf(json.value);
  if (kind === "backoff" || kind === "recover") return { ok: true, value: { kind } };
  if (!hostname) return { ok: false, reason: `${kind}: missing or bad hostname` };
  if (kind === "addHost") {
    const p = json.value as { mgmt_ip?: unknown; cluster_host_ip?: unknown };
    if (typeof p.mgmt_ip !== "string" || !ADDRESS.test(p.mgmt_ip)) return { ok: false, reason: `addHost ${hostname}: missing or bad mgmt_ip` };
    const host: HeartbeatHost = { hostname, mgmtIp: p.mgmt_ip, nodeType: d.msg.num >= 1 ? d.msg.parm[0] : 0 };
    if (p.cluster_host_ip !== undefined && p.cluster_host_ip !== "") {
      if (typeof p.cluster_host_ip !== "string" || !ADDRESS.test(p.cluster_host_ip)) return { ok: false, reason: `addHost ${hostname}: bad cluster_host_ip` };
      host.clusterHostIp = p.cluster_host_ip;
    }
    return { ok: true, value: { kind, host } };
  }
  return { ok: true, value: { kind, hostname } as HbsCommand };
}

const eventCode: Record<HeartbeatEvent["kind"], number> = {
  ready: MtcEvent.MTC_EVENT_HEARTBEAT_READY,
  minorSet: MtcEvent.MTC_EVENT_HEARTBEAT_MINOR_SET,
  minorClear: MtcEvent.MTC_EVENT_HEARTBEAT_MINOR_CLR,
  degradeSet: MtcEvent.MTC_EVENT_HEARTBEAT_DEGRADE_SET,
  degradeClear: MtcEvent.MTC_EVENT_HEARTBEAT_DEGRADE_CLR,
  loss: MtcEvent.MTC_EVENT_HEARTBEAT_LOSS,
  pmondRaise: MtcEvent.MTC_EVENT_PMOND_RAISE,
  pmondClear: MtcEvent.MTC_EVENT_PMOND_CLEAR,
};
const eventKind = new Map<number, HeartbeatEvent["kind"]>(Object.entries(eventCode).map(([k, v]) => [v, k as HeartbeatEvent["kind"]]));

function eventSignature(kind: HeartbeatEvent["kind"]): string {
  if (kind === "loss") return Signature.hbsLoss;
  if (kind === "ready") return Signature.hbsReady;
  if (kind === "pmondRaise" || kind === "pmondClear") return Signature.event;
  return Signature.hbsEvent;
}

/**
 * Encode an hbsAgent event. The affected host goes at hdr[18] (legacy, < 32 chars) and in the JSON;
 * `from` (the sending controller) rides as an extra JSON key the original's parser ignores.
 */
export function encodeHbsEvent(e: HeartbeatEvent): Buffer {
  const msg = mtcMessage({
    signature: eventSignature(e.kind),
    cmd: eventCode[e.kind],
    ver: MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF,
    num: 1,
    parm: [IFACE_INDEX[e.network], 0, 0, 0, 0],
    buf: JSON.stringify({ hostname: e.hostname, service: "hbsAgent", controller: e.from }),
  });
  if (e.hostname.length < 32) msg.hostname = e.hostname;
  return encodeMtcMessage(msg, { full: true });
}

/** Decode an hbsAgent event; `from` falls back to `sourceController` when the JSON does not name one. */
export function decodeHbsEvent(data: Buffer, sourceController?: string): Decoded<HeartbeatEvent> {
  const d = decodeMtcMessage(data);
  if (!d.ok) return d;
  const kind = eventKind.get(d.msg.cmd);
  if (!kind) return { ok: false, reason: `not a heartbeat event (cmd 0x${d.msg.cmd.toString(16)})` };
  if (d.msg.signature !== eventSignature(kind)) return { ok: false, reason: `event 0x${d.msg.cmd.toString(16)} with signature '${d.msg.signature}'` };
  let hostname = d.msg.hostname;
  let from = sourceController;
  const json = mtcJsonPayload(d.msg);
  if (json.ok) {
    hostname = hostnameOf(json.value) ?? hostname;
    const c = (json.value as { controller?: unknown }).controller;
    if (typeof c === "string" && HOSTNAME.test(c)) from = sourceController ?? c;
  }
  if (!hostname || !HOSTNAME.test(hostname)) return { ok: false, reason: "event without a valid hostname" };
  const iface = d.msg.num >= 1 ? d.msg.parm[0] : 0;
  if (iface > 1) return { ok: false, reason: `event for unknown interface ${iface}` };
  return { ok: true, value: { kind, hostname, network: iface === 1 ? "clusterHost" : "mgmt", from: from ?? "unknown" } };
}
