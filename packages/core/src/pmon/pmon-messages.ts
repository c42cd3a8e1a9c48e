/**
 * pmond's messages (reference mtce-core.md §1.4, §1.5, §9): events to the mtcAgent in the 1060-byte mtc message
 * (`"mtce event msg  :"`, ver 2, num 1, parm[0] = node function mask, buf
 * `{"hostname":..,"service":"pmond","process":..}`, the hostname also at hdr[18]), the header-only
 * `"pmond alive pulse"` to hbsClient, and the monitor-ready event. Pure functions; decode never throws.
 */
import { MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF, MtcEvent } from "../wire/mtc-codes.js";
import { decodeMtcMessage, encodeMtcMessage, mtcJsonPayload, mtcMessage, Signature } from "../wire/mtc-message.js";

/** What a process event says (MTC_EVENT_PMON_*). */
export type PmonEventKind = "clear" | "log" | "minor" | "major" | "critical";

export const PMON_EVENT_CODE: Readonly<Record<PmonEventKind, number>> = {
  clear: MtcEvent.MTC_EVENT_PMON_CLEAR,
  log: MtcEvent.MTC_EVENT_PMON_LOG,
  minor: MtcEvent.MTC_EVENT_PMON_MINOR,
  major: MtcEvent.MTC_EVENT_PMON_MAJOR,
  critical: MtcEvent.MTC_EVENT_PMON_CRIT,
};
const kindOf = new Map<number, PmonEventKind>(Object.entries(PMON_EVENT_CODE).map(([k, v]) => [v, k as PmonEventKind]));

/** The kind of a pmon event code, or undefined for any other code. */
export function pmonEventKind(code: number): PmonEventKind | undefined {
  return kindOf.get(code);
}

export interface PmonEvent {
  kind: PmonEventKind;
  hostname: string;
  process: string;
  /** Node function mask (CONTROLLER 0x1, WORKER 0x2, STORAGE 0x4). */
  functionMask: number;
  /** Why (the failure text of a status check, the restart count); an extra key the original ignores. */
  reason?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function encodePmonEvent(e: PmonEvent): Buffer {
  const payload: Record<string, string> = { hostname: e.hostname, service: "pmond", process: e.process };
  if (e.reason) payload.reason = e.reason.slice(0, 512);
  const msg = mtcMessage({
    signature: Signature.event,
    cmd: PMON_EVENT_CODE[e.kind],
    ver: MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF,
    num: 1,
    parm: [e.functionMask >>> 0, 0, 0, 0, 0],
    buf: JSON.stringify(payload),
  });
  if (e.hostname.length < 32) msg.hostname = e.hostname;
  return encodeMtcMessage(msg);
}

export function decodePmonEvent(data: Buffer): { ok: true; value: PmonEvent } | { ok: false; reason: string } {
  const d = decodeMtcMessage(data);
  if (!d.ok) return d;
  if (d.msg.signature !== Signature.event) return { ok: false, reason: "not an event message" };
  const kind = kindOf.get(d.msg.cmd);
  if (!kind) return { ok: false, reason: `not a pmon event (cmd 0x${d.msg.cmd.toString(16)})` };
  const json = mtcJsonPayload(d.msg);
  if (!json.ok) return json;
  const p = json.value as { hostname?: unknown; process?: unknown; reason?: unknown } | null;
  if (!p || typeof p !== "object") return { ok: false, reason: "pmon event payload is not an object" };
  if (typeof p.hostname !== "string" || !NAME.test(p.hostname)) return { ok: false, reason: "pmon event without a valid hostname" };
  if (typeof p.process !== "string" || !NAME.test(p.process)) return { ok: false, reason: "pmon event without a valid process" };
  const e: PmonEvent = { kind, hostname: p.hostname, process: p.process, functionMask: d.msg.num >= 1 ? d.msg.parm[0] : 0 };
  if (typeof p.reason === "string") e.reason = p.reason.slice(0, 512);
  return { ok: true, value: e };
}

/** The pmond alive pulse to hbsClient: a header-only message with the "pmond alive pulse" signature. */
export function encodePmondPulse(hostname: string): Buffer {
  const msg = mtcMessage({ signature: Signature.pmondPulse, cmd: 0 });
  if (hostname.length < 32) msg.hostname = hostname;
  return encodeMtcMessage(msg);
}

/** MTC_EVENT_MONITOR_READY from pmond (the mtcAgent clears the host's process alarms; pmond re-asserts). */
export function encodePmondReady(hostname: string): Buffer {
  return encodeMtcMessage(
    mtcMessage({
      signature: Signature.event,
      cmd: MtcEvent.MTC_EVENT_MONITOR_READY,
      ver: MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF,
      buf: JSON.stringify({ hostname, service: "pmond" }),
    }),
  );
}
