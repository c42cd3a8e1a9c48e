import { decodeMtcMessage, encodeMtcMessage, mtcMessage } from "@metal/core/wire/index";

/**
 * guestAgent <-> guestServer datagrams: the 1060-byte mtc_message_type with a JSON object in `buf`
 * (reference A.11). The original's agent writes this header; its server leaves the header zeroed and the
 * receivers never check it. Both of our ends write it, and accept either.
 */
export const GUEST_SIGNATURE = "guest msg header:";

export type Payload = Record<string, unknown>;
export type DatagramResult = { ok: true; cmd: number; payload: Payload } | { ok: false; reason: string };

/** Encode one command or event; throws RangeError when the JSON does not fit the 960-byte buf. */
export function encodeGuestDatagram(cmd: number, payload: Payload): Buffer {
  // The full 1060 bytes, as the original guestServer sends; ver/rev stay 0 as in the original.
  return encodeMtcMessage(mtcMessage({ signature: GUEST_SIGNATURE, cmd, ver: 0, buf: JSON.stringify(payload) }), { full: true });
}

/** Decode a datagram into its command and JSON payload. Never throws. */
export function decodeGuestDatagram(data: Buffer): DatagramResult {
  const decoded = decodeMtcMessage(data);
  if (!decoded.ok) return decoded;
  const { cmd, buf } = decoded.msg;
  if (buf.trim() === "") return { ok: true, cmd, payload: {} };
  let value: unknown;
  try {
    value = JSON.parse(buf);
  } catch {
    return { ok: false, reason: `bad JSON in buf of 0x${cmd.toString(16)}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { ok: false, reason: `buf of 0x${cmd.toString(16)} is not a JSON object` };
  return { ok: true, cmd, payload: value as Payload };
}

/** A string field of a payload, or undefined. */
export function text(payload: Payload, key: string): string | undefined {
  const v = payload[key];
  return typeof v === "string" ? v : undefined;
}
