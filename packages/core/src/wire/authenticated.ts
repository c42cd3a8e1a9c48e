/**
 * The authenticated datagram: any metal UDP datagram (mtc message, hbs pulse, event, guest report) with a
 * 65-byte trailer appended when a cluster key is configured. The original payload is left untouched in front,
 * so the receiver hands exactly the original bytes to the existing decoders.
 *
 * Byte layout (all integers big-endian):
 * ```
 *   0 .. N-1      the plain datagram (N bytes, unchanged)
 *   N+0  .. N+4   magic "mtla" (0x6d 0x74 0x6c 0x61): tells a trailer from an unsigned datagram
 *   N+4           version (1)
 *   N+5  .. N+9   key id: first 4 bytes of SHA-256("metal cluster key id" || 0x00 || key)
 *   N+9  .. N+17  sender id: 8 random bytes, new for every sending process (a restart starts a new stream)
 *   N+17 .. N+25  sequence: uint64, 1, 2, 3 ... per sender id (< 2^53)
 *   N+25 .. N+33  send time: uint64, milliseconds since the Unix epoch
 *   N+33 .. N+65  HMAC-SHA256(key, bytes 0 .. N+33): covers the payload and every trailer field above
 * ```
 * Pure: no state, no clock. The replay window (sequence and time) is judged by the caller (transport/replay-window.ts).
 */
import { createHash } from "node:crypto";
import { HmacSha256 } from "./hmac-sha256.js";

export const AUTH_MAGIC = Buffer.from("mtla", "latin1");
export const AUTH_VERSION = 1;
export const AUTH_KEY_ID_BYTES = 4;
export const AUTH_SENDER_BYTES = 8;
export const AUTH_MAC_BYTES = 32;
/** Trailer size: magic 4 + version 1 + key id 4 + sender 8 + sequence 8 + time 8 + MAC 32. */
export const AUTH_TRAILER_BYTES = 65;
/** Offset of the MAC inside the trailer (everything before it is authenticated). */
const MAC_AT = AUTH_TRAILER_BYTES - AUTH_MAC_BYTES;
/** The shortest key accepted (256 bits, the HMAC-SHA256 block strength). */
export const AUTH_MIN_KEY_BYTES = 32;

/**
 * One cluster key, ready to sign: its HMAC-SHA256 with the key's pad blocks precomputed (wire/hmac-sha256.ts;
 * the raw secret is not kept) and its 4-byte id.
 */
export interface AuthKey {
  readonly id: Buffer;
  /** The same 4 id bytes as a big-endian uint32 (what `openDatagram` hands to its key lookup). */
  readonly idNumber: number;
  readonly mac: HmacSha256;
}

/** Make an `AuthKey` from the raw secret. Throws (code AUTH_KEY_SHORT) for fewer than 32 bytes. */
export function authKey(secret: Buffer): AuthKey {
  if (secret.length < AUTH_MIN_KEY_BYTES) {
    throw Object.assign(new Error(`cluster key too short: ${secret.length} bytes, need at least ${AUTH_MIN_KEY_BYTES}`), { code: "AUTH_KEY_SHORT" });
  }
  const id = createHash("sha256").update("metal cluster key id\0").update(secret).digest().subarray(0, AUTH_KEY_ID_BYTES);
  return { id: Buffer.from(id), idNumber: id.readUInt32BE(0), mac: new HmacSha256(secret) };
}

/** The trailer fields other than the MAC, as numbers (no per-datagram buffers or strings). */
export interface AuthFields {
  /** The 4 key-id bytes as a big-endian uint32. */
  keyId: number;
  /** The 8 sender-id bytes as two big-endian uint32s. */
  senderHi: number;
  senderLo: number;
  /** 1 .. 2^53-1. */
  sequence: number;
  /** Milliseconds since the Unix epoch. */
  timeMs: number;
}

const TWO32 = 0x1_0000_0000;

function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO32) >>> 0, at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * TWO32 + buf.readUInt32BE(at + 4);
}

/**
 * Append the trailer: one new buffer of `plain.length + 65` bytes. `sequence` and `timeMs` must be integers
 * in 0 .. 2^53-1 and `sender` 8 bytes (RangeError otherwise).
 */
export function sealDatagram(plain: Uint8Array, key: AuthKey, sender: Buffer, sequence: number, timeMs: number): Buffer {
  if (sender.length !== AUTH_SENDER_BYTES) throw new RangeError(`sender id must be ${AUTH_SENDER_BYTES} bytes`);
  if (!Number.isSafeInteger(sequence) || sequence < 0) throw new RangeError(`sequence out of range: ${sequence}`);
  if (!Number.isSafeInteger(timeMs) || timeMs < 0) throw new RangeError(`time out of range: ${timeMs}`);
  const n = plain.length;
  const out = Buffer.allocUnsafe(n + AUTH_TRAILER_BYTES);
  out.set(plain, 0);
  AUTH_MAGIC.copy(out, n);
  out[n + 4] = AUTH_VERSION;
  key.id.copy(out, n + 5);
  sender.copy(out, n + 9);
  writeU64(out, sequence, n + 17);
  writeU64(out, timeMs, n + 25);
  key.mac.digestInto(out, n + MAC_AT, out, n + MAC_AT);
  return out;
}

export type AuthRejection =
  /** No trailer (a plain datagram, e.g. from an unkeyed or original C daemon). */
  | "unsigned"
  /** A trailer of a version this code does not know. */
  | "version"
  /** Signed with a key this node does not hold (rotation not finished, or foreign). */
  | "unknown-key"
  /** The MAC does not match: altered in transit, forged, or a wrong key with a colliding id. */
  | "bad-mac";

export type OpenResult = { ok: true; plain: Buffer; fields: AuthFields } | { ok: false; reason: AuthRejection };

/**
 * Check a datagram's trailer and MAC. On success `plain` is a view (no copy) of the original bytes. `keyFor`
 * maps a key id (the 4 bytes as a big-endian uint32) to a key this node accepts (the current one and, during a
 * rotation, the other). The MAC is compared in constant time. Never throws on any input.
 */
export function openDatagram(data: Buffer, keyFor: (id: number) => AuthKey | undefined): OpenResult {
  const n = data.length - AUTH_TRAILER_BYTES;
  if (n < 0 || data[n] !== 0x6d || data[n + 1] !== 0x74 || data[n + 2] !== 0x6c || data[n + 3] !== 0x61) return { ok: false, reason: "unsigned" };
  if (data[n + 4] !== AUTH_VERSION) return { ok: false, reason: "version" };
  const keyId = data.readUInt32BE(n + 5);
  const key = keyFor(keyId);
  if (!key) return { ok: false, reason: "unknown-key" };
  if (!key.mac.verify(data, n + MAC_AT, n + MAC_AT)) return { ok: false, reason: "bad-mac" };
  return {
    ok: true,
    plain: data.subarray(0, n),
    fields: {
      keyId,
      senderHi: data.readUInt32BE(n + 9),
      senderLo: data.readUInt32BE(n + 13),
      sequence: readU64(data, n + 17),
      timeMs: readU64(data, n + 25),
    },
  };
}
