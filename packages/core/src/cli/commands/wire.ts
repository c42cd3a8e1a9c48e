import type { Command } from "commander";
import { z } from "zod";
import { parseMtcAlive } from "../../wire/mtc-alive.js";
import { MtcCmd, mtcCodeByName, mtcCodeName } from "../../wire/mtc-codes.js";
import { mtcFlagNames } from "../../wire/mtc-flags.js";
import {
  decodeMtcMessage,
  encodeMtcMessage,
  MTC_MSG_SIZE,
  mtcJsonPayload,
  mtcMessage,
  Signature,
  type SignatureName,
  signatureName,
} from "../../wire/mtc-message.js";
import { CliError } from "../errors.js";

/** Decode a hex datagram into a JSON view: signature and its name, cmd name, parms, flags and the JSON payload. */
export function describeDatagram(hex: string): Record<string, unknown> {
  const clean = hex.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new CliError("--hex: not an even number of hex digits");
  if (clean.length / 2 > MTC_MSG_SIZE) throw new CliError(`--hex: ${clean.length / 2} bytes; an mtc message is at most ${MTC_MSG_SIZE}`);
  const d = decodeMtcMessage(Buffer.from(clean, "hex"));
  if (!d.ok) throw new CliError(`--hex: ${d.reason}`);
  const m = d.msg;
  const out: Record<string, unknown> = {
    signature: m.signature,
    signatureName: signatureName(m.signature) ?? null,
    ...(m.mac !== undefined ? { mac: m.mac } : {}),
    ...(m.hostname !== undefined ? { hostname: m.hostname } : {}),
    ver: m.ver,
    rev: m.rev,
    res: m.res,
    cmd: m.cmd,
    cmdName: mtcCodeName(m.cmd),
    num: m.num,
    parm: m.parm,
    buf: m.buf,
  };
  const json = mtcJsonPayload(m);
  if (json.ok) out.json = json.value;
  if (m.cmd === MtcCmd.MTC_MSG_MTCALIVE && m.signature === Signature.workerMsg) {
    const alive = parseMtcAlive(m);
    if (alive.ok)
      out.mtcAlive = { uptime: alive.alive.uptime, health: alive.alive.health, flags: mtcFlagNames(alive.alive.flags), sequence: alive.alive.sequence };
  }
  return out;
}

const u32 = z.number().int().min(0).max(0xffffffff);
/**
 * What `encode` takes: what `decode` prints (so a decoded datagram encodes back), or a hand-written subset.
 * signatureName, cmdName, json and mtcAlive are decode's derived views: checked against the fields they derive
 * from when those are given, otherwise used in their place (signatureName → signature, cmdName → cmd, json →
 * payload); mtcAlive is derived from buf and ignored.
 */
const encodeInput = z
  .object({
    /** A 1..17-character signature, or a signature name (cmdReq, workerMsg, ...). */
    signature: z.string().min(1).max(17).optional(),
    signatureName: z.string().min(1).max(32).nullable().optional(),
    cmd: z.union([u32, z.string().min(1)]).optional(),
    cmdName: z.string().min(1).max(64).nullable().optional(),
    ver: z.number().int().min(0).max(0xffff).optional(),
    rev: z.number().int().min(0).max(0xffff).optional(),
    res: u32.optional(),
    num: u32.optional(),
    parm: z.array(u32).max(5).optional(),
    mac: z.string().max(47).optional(),
    hostname: z.string().max(46).optional(),
    buf: z.string().optional(),
    /** An object written into buf as JSON. */
    payload: z.record(z.string(), z.unknown()).optional(),
    /** decode's parsed view of buf: the payload when buf is absent. */
    json: z.unknown().optional(),
    /** decode's view of an mtcAlive's buf: derived, ignored. */
    mtcAlive: z.unknown().optional(),
  })
  .strict();

/** Encode a JSON description into the hex of the datagram (the truncated send unless full). */
export function encodeDescription(json: string, full: boolean): string {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new CliError(`--json: ${(err as Error).message}`);
  }
  const parsed = encodeInput.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new CliError(`--json: ${i?.path.join(".") || "(top level)"}: ${i?.message}`);
  }
  const v = parsed.data;
  const byName = (n: string | null | undefined) => (n && Object.hasOwn(Signature, n) ? (Signature as Record<string, string>)[n] : undefined);
  if (v.signatureName && !byName(v.signatureName))
    throw new CliError(`--json: signatureName: '${v.signatureName}' is not a signature name (${Object.keys(Signature).join(", ")})`);
  if (v.signature === undefined && !v.signatureName) throw new CliError("--json: signature: required");
  // A name, or any literal header string (decode prints unknown signatures too; encode takes them back).
  const signature = v.signature === undefined ? (byName(v.signatureName) as string) : (byName(v.signature) ?? v.signature);
  // A literal that is no known signature is taken as decode printed it (signatureName: null); by hand it is
  // most likely a mistyped name.
  if (!signatureName(signature) && v.signatureName !== null)
    throw new CliError(
      `--json: signature: '${v.signature}' is neither a signature name (${Object.keys(Signature).join(", ")}) nor one of their strings (give "signatureName": null to send it as it is)`,
    );
  if (v.signatureName && byName(v.signatureName) !== signature)
    throw new CliError(`--json: signatureName '${v.signatureName}' does not match signature '${v.signature}'`);
  if (v.cmd === undefined && !v.cmdName) throw new CliError("--json: cmd: required");
  const cmd = v.cmd === undefined ? mtcCodeByName(v.cmdName as string) : typeof v.cmd === "number" ? v.cmd : mtcCodeByName(v.cmd);
  if (cmd === undefined) throw new CliError(`--json: cmd: unknown code name '${v.cmd ?? v.cmdName}'`);
  if (v.cmdName && v.cmd !== undefined && mtcCodeByName(v.cmdName) !== cmd && mtcCodeName(cmd) !== v.cmdName)
    throw new CliError(`--json: cmdName '${v.cmdName}' does not match cmd ${String(v.cmd)}`);
  if (v.buf !== undefined && v.payload !== undefined) throw new CliError("--json: give buf or payload, not both");
  const payloadText = v.payload !== undefined ? JSON.stringify(v.payload) : v.buf === undefined && v.json !== undefined ? JSON.stringify(v.json) : undefined;
  const parm: [number, number, number, number, number] = [0, 0, 0, 0, 0];
  (v.parm ?? []).forEach((p, i) => {
    parm[i] = p;
  });
  try {
    const msg = mtcMessage({
      signature: signature as (typeof Signature)[SignatureName],
      cmd,
      ver: v.ver ?? (payloadText !== undefined ? 2 : 1),
      rev: v.rev ?? 0,
      res: v.res ?? 0,
      num: v.num ?? v.parm?.length ?? 0,
      parm,
      buf: payloadText ?? v.buf ?? "",
      ...(v.mac !== undefined ? { mac: v.mac } : {}),
      ...(v.hostname !== undefined ? { hostname: v.hostname } : {}),
    });
    return encodeMtcMessage(msg, { full }).toString("hex");
  } catch (err) {
    throw new CliError(`--json: ${(err as Error).message}`);
  }
}

/** `metal wire decode|encode`: look at mtc messages by hand. */
export function wireCommand(program: Command): void {
  const wire = program.command("wire").description("decode and encode the 1060-byte mtc message");
  wire
    .command("decode")
    .description("print a hex datagram as JSON (signature, command name, parms, flags, JSON payload)")
    .requiredOption("--hex <hex>", "the datagram as hex digits")
    .action((o: { hex: string }) => {
      process.stdout.write(`${JSON.stringify(describeDatagram(o.hex), null, 2)}\n`);
    });
  wire
    .command("encode")
    .description('print the hex of a message described as JSON, e.g. {"signature":"cmdReq","cmd":"MTC_CMD_REBOOT","mac":"52:54:00:aa:bb:cc"}')
    .requiredOption("--json <json>", "signature, cmd (number or name), ver, rev, res, num, parm, mac, hostname, buf or payload")
    .option("--full", "the whole 1060-byte struct instead of the truncated send")
    .action((o: { json: string; full?: boolean }) => {
      process.stdout.write(`${encodeDescription(o.json, Boolean(o.full))}\n`);
    });
}
