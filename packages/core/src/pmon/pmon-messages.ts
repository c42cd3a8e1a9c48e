/**
 * pmond's messages (reference mtce-core.md §1.4, §1.5, §9): events to the mtcAgent in the 1060-byte mtc message
 * (`"mtce event msg  :"`, ver 2, num 1, parm[0] = node function mask, buf
 * `{"hostname":..,"service":"pmond","process":..}`, the hostname also at hdr[18]), the header-only
 * `"pmond alive pulse"` to hbsClient, and the monitor-ready event. Pure functions; decode never throws.
 */
import { MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF, MtcEvent } from "../wire/mtc-codes.js";
import { decodeMtcMessage, encodeMtcMessage, MTC_BUF_SIZE, mtcJsonPayload, mtcMessage, Signature } from "../wire/mtc-message.js";

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

/** The longest reason sent, in UTF-16 units (the original ignores the key). */
const MAX_REASON = 512;

/** `s` cut to at most `n` UTF-16 units, never between the two halves of a surrogate pair. */
function cut(s: string, n: number): string {
  if (s.length <= n) return s;
  const hi = s.charCodeAt(n - 1);
  return s.slice(0, hi >= 0xd800 && hi <= 0xdbff ? n - 1 : n);
}

/**
 * The event's JSON buf, the reason cut until it fits the 960-byte buf with its NUL (a status script's output can be
 * any text, and JSON escapes control characters six-fold). Throws RangeError only when the names alone do not fit.
 */
function eventBuf(e: PmonEvent): string {
  const base = { hostname: e.hostname, service: "pmond", process: e.process };
  const fits = (json: string) => Buffer.byteLength(json) <= MTC_BUF_SIZE - 1;
  const reason = e.reason ? cut(e.reason, MAX_REASON) : "";
  const whole = JSON.stringify(reason ? { ...base, reason } : base);
  if (fits(whole)) return whole;
  // The longest prefix that fits: binary search on the length.
  let lo = 0;
  let hi = reason.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(JSON.stringify({ ...base, reason: cut(reason, mid) }))) lo = mid;
    else hi = mid - 1;
  }
  const r = cut(reason, lo);
  const json = JSON.stringify(r ? { ...base, reason: r } : base);
  if (!fits(json)) throw new RangeError(`pmon event for ${e.process}: the names do not fit the mtc message buf`);
  return json;
}

/** Encode a pmon event (the reason cut to what fits). Throws RangeError only for names no conf or config allows. */
export function encodePmonEvent(e: PmonEvent): Buffer {
  const msg = mtcMessage({
    signature: Signature.event,
    cmd: PMON_EVENT_CODE[e.kind],
    ver: MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF,
    num: 1,
    parm: [e.functionMask >>> 0, 0, 0, 0, 0],
    buf: eventBuf(e),
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
  if (typeof p.reason === "string" && p.reason) e.reason = cut(p.reason, MAX_REASON);
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
