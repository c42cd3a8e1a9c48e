/**
 * `mtc_message_type` (reference mtce-core.md §1.4): a packed little-endian C struct of 1060 bytes.
 *
 *   0   char hdr[64]   17-char signature; agent commands put the target MAC at hdr[17];
 *                      legacy hbs/pmon events put the hostname at hdr[18]
 *   64  u16 ver        1 = command, 2 = JSON at buf[res]
 *   66  u16 rev
 *   68  u32 res        offset of the JSON in buf
 *   72  u32 cmd
 *   76  u32 num        number of valid parm entries
 *   80  u32 parm[5]
 *   100 char buf[960]  NUL-terminated; senders transmit only 100 + strlen(buf) + 1 bytes
 *
 * Pure functions: decode never throws, it returns a reason.
 */
export const MTC_HDR_SIZE = 64;
export const MTC_BUF_SIZE = 960;
export const MTC_BUF_OFFSET = 100;
export const MTC_MSG_SIZE = MTC_BUF_OFFSET + MTC_BUF_SIZE; // 1060
export const MTC_SIGNATURE_LEN = 17;
export const MTC_PARM_COUNT = 5;

/** Signature strings (nodeBase.cpp), each 17 characters; the receiver tells classes apart by them. */
export const Signature = {
  hbsCmd: "cgts mtc hbs cmd:",
  cmdReq: "cgts mtc cmd req:",
  cmdRsp: "cgts mtc cmd rsp:",
  repMsg: "cgts mtc rep msg:",
  workerMsg: "cgts mtc message:",
  logMsg: "cgts mtc log msg:",
  event: "mtce event msg  :",
  pmondPulse: "pmond alive pulse",
  hbsEvent: "heart beat event:",
  hbsLoss: "heart beat loss :",
  hbsReady: "heart beat ready:",
  loopback: "mtc loopback msg:",
} as const;
export type SignatureName = keyof typeof Signature;

const bySignature = new Map<string, SignatureName>(Object.entries(Signature).map(([k, v]) => [v, k as SignatureName]));

export interface MtcMessage {
  /** The 17 header characters (normally one of `Signature`). */
  signature: string;
  /** Target mgmt MAC written at hdr[17] by agent commands. */
  mac?: string;
  /** Hostname at hdr[18] (legacy hbs/pmon events). */
  hostname?: string;
  ver: number;
  rev: number;
  res: number;
  cmd: number;
  num: number;
  parm: [number, number, number, number, number];
  /** buf as a string up to its NUL. */
  buf: string;
}

export type DecodeResult = { ok: true; msg: MtcMessage } | { ok: false; reason: string };

const U32_MAX = 0xffffffff;
/** One shared decoder: a new TextDecoder per datagram costs more than the rest of the decode. */
const utf8 = new TextDecoder("utf-8", { fatal: false });

function cstring(bytes: Buffer, start: number, end: number): string {
  const nul = bytes.indexOf(0, start);
  return bytes.toString("latin1", start, nul === -1 || nul > end ? end : nul);
}

/** The name of a known signature, or undefined (the receiver uses strstr on hdr, so match as a prefix). */
export function signatureName(signature: string): SignatureName | undefined {
  return bySignature.get(signature);
}

/** Build a message with zeroed fields; `fields` override. */
export function mtcMessage(fields: Partial<MtcMessage> & { signature: string; cmd: number }): MtcMessage {
  return { ver: 1, rev: 0, res: 0, num: 0, parm: [0, 0, 0, 0, 0], buf: "", ...fields };
}

/**
 * Encode to the wire. `full` gives the whole 1060-byte struct; otherwise the truncated send of the
 * original (header, fields and buf up to and including its NUL).
 */
export function encodeMtcMessage(msg: MtcMessage, options: { full?: boolean } = {}): Buffer {
  const buf = Buffer.from(msg.buf, "utf8");
  if (buf.length > MTC_BUF_SIZE - 1) throw new RangeError(`mtc message buf is ${buf.length} bytes; at most ${MTC_BUF_SIZE - 1}`);
  if (buf.includes(0)) throw new RangeError("mtc message buf must not contain NUL");
  const sig = Buffer.from(msg.signature, "latin1");
  if (sig.length > MTC_SIGNATURE_LEN) throw new RangeError(`signature longer than ${MTC_SIGNATURE_LEN} bytes`);
  const len = options.full ? MTC_MSG_SIZE : MTC_BUF_OFFSET + buf.length + 1;
  const out = Buffer.alloc(len);
  sig.copy(out, 0);
  if (msg.mac !== undefined) {
    const mac = Buffer.from(msg.mac, "latin1");
    // Up to the end of the header, as decode reads it (a 47-byte field has no NUL; decode stops at the header end).
    if (mac.length > MTC_HDR_SIZE - MTC_SIGNATURE_LEN) throw new RangeError(`mac too long for the header (max ${MTC_HDR_SIZE - MTC_SIGNATURE_LEN})`);
    mac.copy(out, MTC_SIGNATURE_LEN);
  } else if (msg.hostname !== undefined) {
    const host = Buffer.from(msg.hostname, "latin1");
    if (host.length > MTC_HDR_SIZE - 18) throw new RangeError(`hostname too long for the header (max ${MTC_HDR_SIZE - 18})`);
    host.copy(out, 18);
  }
  const u16 = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${what} must be a u16`);
    return v;
  };
  const u32 = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new RangeError(`${what} must be a u32`);
    return v;
  };
  out.writeUInt16LE(u16(msg.ver, "ver"), 64);
  out.writeUInt16LE(u16(msg.rev, "rev"), 66);
  out.writeUInt32LE(u32(msg.res, "res"), 68);
  out.writeUInt32LE(u32(msg.cmd, "cmd"), 72);
  out.writeUInt32LE(u32(msg.num, "num"), 76);
  for (let i = 0; i < MTC_PARM_COUNT; i++) out.writeUInt32LE(u32(msg.parm[i] ?? 0, `parm[${i}]`), 80 + 4 * i);
  buf.copy(out, MTC_BUF_OFFSET);
  return out;
}

/** Decode a datagram: from the 100-byte header-only form up to the full 1060 bytes. Never throws. */
export function decodeMtcMessage(data: Buffer): DecodeResult {
  if (data.length < MTC_BUF_OFFSET) return { ok: false, reason: `short datagram: ${data.length} bytes, need at least ${MTC_BUF_OFFSET}` };
  if (data.length > MTC_MSG_SIZE) return { ok: false, reason: `oversized datagram: ${data.length} bytes, at most ${MTC_MSG_SIZE}` };
  const signature = cstring(data, 0, MTC_SIGNATURE_LEN);
  const msg: MtcMessage = {
    signature,
    ver: data.readUInt16LE(64),
    rev: data.readUInt16LE(66),
    res: data.readUInt32LE(68),
    cmd: data.readUInt32LE(72),
    num: data.readUInt32LE(76),
    parm: [data.readUInt32LE(80), data.readUInt32LE(84), data.readUInt32LE(88), data.readUInt32LE(92), data.readUInt32LE(96)],
    buf: "",
  };
  if (signature.length === MTC_SIGNATURE_LEN) {
    if (data[MTC_SIGNATURE_LEN] !== 0) {
      msg.mac = cstring(data, MTC_SIGNATURE_LEN, MTC_HDR_SIZE);
    } else {
      const host = cstring(data, 18, MTC_HDR_SIZE);
      if (host) msg.hostname = host;
    }
  }
  const bufBytes = data.subarray(MTC_BUF_OFFSET);
  const nul = bufBytes.indexOf(0);
  const text = bufBytes.subarray(0, nul === -1 ? bufBytes.length : nul);
  msg.buf = utf8.decode(text);
  return { ok: true, msg };
}

/** The JSON payload of a ver>=2 message (at buf[res]), or of any message whose buf is JSON. */
export function mtcJsonPayload(msg: MtcMessage): { ok: true; value: unknown } | { ok: false; reason: string } {
  const text = msg.ver >= 2 ? msg.buf.slice(msg.res) : msg.buf;
  if (!text) return { ok: false, reason: "empty buf" };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, reason: `bad JSON in buf: ${(err as Error).message}` };
  }
}
