/**
 * Active monitoring (reference mtce-core.md §9, mtce/src/public/amon.c): pmond sends the ASCII request
 * `"<process> <magic %x> <seq>"` with AMON_MAGIC_NUM to the process's loopback port; the process answers
 * `"<process> <~magic %8x> <seq>"`. A bad name, magic or sequence counts as a miss. The responder side is what
 * a monitored daemon embeds (`startAmonResponder`), configured from its own pmon.d conf as the original is.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { MetalConfig } from "../config/schema.js";
import { bindUdp, closeUdp, sendUdp } from "../heartbeat/udp.js";
import type { Logger } from "../plugin-api/services.js";
import { datagramAuthFor } from "../transport/datagram-auth.js";
import type { UdpSocket } from "../transport/udp-socket.js";
import { parseProcessConf } from "./conf.js";

export const AMON_MAGIC_NUM = 0x12345678;
/** Longest amon datagram (name up to 64, two numbers). */
const AMON_MAX_BYTES = 128;

export function encodeAmonRequest(process: string, seq: number): Buffer {
  return Buffer.from(`${process} ${AMON_MAGIC_NUM.toString(16)} ${seq >>> 0}`, "latin1");
}

/** The reply a healthy process sends: the name, the inverted magic as 8 hex digits, the same sequence. */
export function encodeAmonResponse(process: string, seq: number): Buffer {
  return Buffer.from(`${process} ${(~AMON_MAGIC_NUM >>> 0).toString(16).padStart(8, "0")} ${seq >>> 0}`, "latin1");
}

type Parsed = { ok: true; process: string; magic: number; seq: number } | { ok: false; reason: string };

function parse(data: Buffer): Parsed {
  if (data.length === 0 || data.length > AMON_MAX_BYTES) return { ok: false, reason: `bad length ${data.length}` };
  const parts = data.toString("latin1").trim().split(" ");
  if (parts.length !== 3) return { ok: false, reason: "expected '<process> <magic> <seq>'" };
  const [process, magic, seq] = parts as [string, string, string];
  // One spelling per sequence (no leading zeros, nothing past 2^32 - 1): "07" or 2^32 + 7 is not sequence 7.
  if (!/^[0-9a-fA-F]{1,8}$/.test(magic) || !/^(0|[1-9]\d{0,9})$/.test(seq) || Number(seq) > 0xffffffff) return { ok: false, reason: "bad magic or sequence" };
  return { ok: true, process, magic: Number.parseInt(magic, 16) >>> 0, seq: Number(seq) };
}

/** Decode a request (responder side): the name and sequence when the magic is right. */
export function decodeAmonRequest(data: Buffer): { ok: true; process: string; seq: number } | { ok: false; reason: string } {
  const p = parse(data);
  if (!p.ok) return p;
  if (p.magic !== AMON_MAGIC_NUM) return { ok: false, reason: "bad magic" };
  return { ok: true, process: p.process, seq: p.seq };
}

/** Check a response (pmond side): true only for this process, the inverted magic and the expected sequence. */
export function amonResponseMatches(data: Buffer, process: string, seq: number): boolean {
  const p = parse(data);
  return p.ok && p.process === process && p.magic === ~AMON_MAGIC_NUM >>> 0 && p.seq === seq >>> 0;
}

/** A running responder; close it on stop. */
export interface AmonResponder {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Answer pmond's pings for `process` when `<confDir>/<process>.conf` says mode active with a port; otherwise
 * (no conf, another mode) nothing is bound and undefined is returned. Bad datagrams are dropped silently
 * (pmond counts a miss).
 */
export async function startAmonResponder(config: MetalConfig, process: string, log: Logger): Promise<AmonResponder | undefined> {
  const dir = config.pmon.confDir ?? join(config.root, "etc/pmon.d");
  let port: number | undefined;
  try {
    const conf = parseProcessConf(readFileSync(join(dir, `${process}.conf`), "utf8"), `${process}.conf`, config.root);
    if (conf.mode === "active") port = conf.port;
  } catch {
    return undefined;
  }
  if (port === undefined) return undefined;
  let sock: UdpSocket | undefined;
  sock = await bindUdp(config.pmon.loopbackAddress, port, {
    auth: datagramAuthFor(config, log),
    label: `${process} amon`,
    onMessage: (data, rinfo) => {
      const r = decodeAmonRequest(data);
      if (!r.ok || r.process !== process || !sock) return;
      sendUdp(sock, encodeAmonResponse(process, r.seq), rinfo.port, rinfo.address, () => undefined);
    },
  });
  log.info({ process, port }, "answering pmond's active monitor");
  return { port, close: () => closeUdp(sock) };
}
