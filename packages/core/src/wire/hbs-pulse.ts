/**
 * The heartbeat pulse `hbs_message_type` (reference mtce-core.md §3.1): packed, little-endian, 427 bytes at most.
 *
 *   0   char m[47]  "cgts pulse req:" / "cgts pulse rsp:" (15 bytes, no NUL), then m[15..46]: a hostname
 *                   (the request's "clue" host; the responder's own name in a response), NUL padded
 *   47  u32 s       sequence number of the period; the response echoes it
 *   51  u32 c       RRI lookup clue: request = the clue host's index; response = the client's cached RRI
 *   55  u32 f       flags: PMOND 0x1, CLSTR 0x2, controller number (f & 0x300) >> 8, stall bits 0x0001_0000..
 *   59  u32 v       message version; 1 carries the cluster vault
 *   63  cluster     mtce_hbs_cluster_type, only the used histories are sent
 *
 * Pure functions; decode never throws, it returns a reason.
 */
import { type ClusterVault, decodeClusterVault, encodeClusterVault, VAULT_MAX_BYTES } from "./cluster-vault.js";

export const HBS_HEADER_SIZE = 15;
/** HBS_MAX_MSG = HBS_HEADER_SIZE + MAX_CHARS_HOSTNAME (32). */
export const HBS_MAX_MSG = 47;
export const HBS_CLUE_MAX = HBS_MAX_MSG - HBS_HEADER_SIZE; // 32
export const HBS_FIELDS_END = HBS_MAX_MSG + 16; // 63: where the cluster vault starts
export const HBS_PULSE_MAX = HBS_FIELDS_END + VAULT_MAX_BYTES; // 427
export const HBS_MESSAGE_VERSION = 1;

export const PULSE_REQ_HEADER = "cgts pulse req:";
export const PULSE_RSP_HEADER = "cgts pulse rsp:";

/** Pulse flag bits (nodeBase.h). */
export const PulseFlag = {
  PMOND: 0x1,
  CLSTR: 0x2,
  CTRLX_MASK: 0x300,
  CTRLX_BIT: 8,
  STALL_MON: 0x0001_0000,
  STALL_REC: 0x0002_0000,
  STALL_ERR1: 0x0010_0000,
  STALL_ERR2: 0x0020_0000,
  STALL_ERR3: 0x0040_0000,
  STALL_ERR4: 0x0080_0000,
  STALL_PID1: 0x0100_0000,
  STALL_REC_FAIL: 0x8000_0000,
} as const;

export function controllerOfFlags(flags: number): number {
  return (flags & PulseFlag.CTRLX_MASK) >>> PulseFlag.CTRLX_BIT;
}

export function withController(flags: number, controller: number): number {
  return ((flags & ~PulseFlag.CTRLX_MASK) | ((controller & 0x3) << PulseFlag.CTRLX_BIT)) >>> 0;
}

export interface HbsPulse {
  kind: "req" | "rsp";
  /** m[15..]: the clue hostname (request) or the responder (response); at most 32 bytes. */
  host: string;
  seq: number;
  rri: number;
  flags: number;
  version: number;
  /** Present for version >= 1 when the sender appended one. */
  cluster?: ClusterVault;
}

export type PulseDecodeResult = { ok: true; pulse: HbsPulse } | { ok: false; reason: string };

const U32_MAX = 0xffffffff;
const u32 = (v: number, what: string) => {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new RangeError(`${what} must be a u32`);
  return v;
};

export function encodePulse(p: HbsPulse): Buffer {
  const host = Buffer.from(p.host, "latin1");
  if (host.length > HBS_CLUE_MAX) throw new RangeError(`pulse hostname is ${host.length} bytes; at most ${HBS_CLUE_MAX}`);
  if (host.includes(0)) throw new RangeError("pulse hostname must not contain NUL");
  const vault = p.cluster ? encodeClusterVault(p.cluster) : Buffer.alloc(0);
  const out = Buffer.alloc(HBS_FIELDS_END + vault.length);
  out.write(p.kind === "req" ? PULSE_REQ_HEADER : PULSE_RSP_HEADER, 0, "latin1");
  host.copy(out, HBS_HEADER_SIZE);
  out.writeUInt32LE(u32(p.seq, "seq"), 47);
  out.writeUInt32LE(u32(p.rri, "rri"), 51);
  out.writeUInt32LE(u32(p.flags, "flags"), 55);
  out.writeUInt32LE(u32(p.version, "version"), 59);
  vault.copy(out, HBS_FIELDS_END);
  return out;
}

/**
 * Decode a pulse. The header must be one of the two pulse headers and the fixed fields complete; a version-1
 * pulse that carries cluster data must carry a well-formed vault (its byte count matching its histories, the
 * datagram at least that long; trailing slack up to 427 bytes is ignored), otherwise the whole pulse is refused.
 */
export function decodePulse(data: Buffer): PulseDecodeResult {
  if (data.length < HBS_FIELDS_END) return { ok: false, reason: `short pulse: ${data.length} bytes, need at least ${HBS_FIELDS_END}` };
  if (data.length > HBS_PULSE_MAX) return { ok: false, reason: `oversized pulse: ${data.length} bytes, at most ${HBS_PULSE_MAX}` };
  const header = data.toString("latin1", 0, HBS_HEADER_SIZE);
  let kind: HbsPulse["kind"];
  if (header === PULSE_REQ_HEADER) kind = "req";
  else if (header === PULSE_RSP_HEADER) kind = "rsp";
  else return { ok: false, reason: "not a pulse header" };
  const nul = data.indexOf(0, HBS_HEADER_SIZE);
  const hostEnd = nul === -1 || nul > HBS_MAX_MSG ? HBS_MAX_MSG : nul;
  const pulse: HbsPulse = {
    kind,
    host: data.toString("latin1", HBS_HEADER_SIZE, hostEnd),
    seq: data.readUInt32LE(47),
    rri: data.readUInt32LE(51),
    flags: data.readUInt32LE(55),
    version: data.readUInt32LE(59),
  };
  if (pulse.version >= HBS_MESSAGE_VERSION && data.length > HBS_FIELDS_END) {
    const v = decodeClusterVault(data.subarray(HBS_FIELDS_END));
    if (!v.ok) return { ok: false, reason: v.reason };
    // The original sends sizeof(hbs_message_type) minus the unused history bytes of its *whole* vault (the peer's
    // histories included) while the vault header counts only its own: bytes past the announced vault are slack, as
    // the original receiver treats them (a 188-byte vault arrives in 339 or 427 bytes). Short is still refused.
    if (HBS_FIELDS_END + v.bytes > data.length) return { ok: false, reason: `pulse of ${data.length} bytes carries a ${v.bytes}-byte vault` };
    pulse.cluster = v.vault;
  }
  return { ok: true, pulse };
}
