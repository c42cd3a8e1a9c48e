import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import fc from "fast-check";
import { decodeMtcMessage, encodeMtcMessage, type MtcMessage, Signature } from "../src/wire/mtc-message.js";

/** The C program lives with the sources (tsc does not copy it): packages/core/src/wire/c. */
const SOURCE = fileURLToPath(new URL("../../src/wire/c/mtc_message.c", import.meta.url));

const text = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789:-_. {}\"',[]ABCXYZ"), minLength: min, maxLength: max });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const arb = fc.record({
  signature: fc.constantFrom(...Object.values(Signature)),
  mac: fc.option(text(1, 46), { nil: undefined }),
  ver: u16,
  rev: u16,
  res: u32,
  cmd: u32,
  num: u32,
  parm: fc.tuple(u32, u32, u32, u32, u32),
  buf: text(0, 959),
});

function compile(t: import("ava").ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), "metal-mtc-c-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, "mtc_message");
  const r = spawnSync("gcc", ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-o", bin, SOURCE], { encoding: "utf8" });
  if (r.error) throw new Error(`gcc is required for this test (the C side of the round trip): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`gcc failed:\n${r.stderr}`);
  return bin;
}

const record = (m: MtcMessage) => [m.signature, m.mac ?? "", m.ver, m.rev, m.res, m.cmd, m.num, m.parm.join(","), m.buf].join("\t");

test("the C struct is 1060 bytes with the reference offsets", (t) => {
  const bin = compile(t);
  const r = spawnSync(bin, ["layout"], { encoding: "utf8" });
  t.is(r.stdout.trim(), "sizeof=1060 ver=64 rev=66 res=68 cmd=72 num=76 parm=80 buf=100");
});

test("bytes round-trip between the TypeScript codec and a C program packing the reference struct", (t) => {
  const bin = compile(t);
  const samples = fc.sample(arb, 300).map((m) => ({ ...m, ...(m.mac === undefined ? {} : { mac: m.mac }) }) as MtcMessage);
  for (const m of samples) if (m.mac === undefined) delete m.mac;

  // TypeScript encodes, C reads the struct back.
  const fromTs = spawnSync(bin, ["unpack"], { input: `${samples.map((m) => encodeMtcMessage(m).toString("hex")).join("\n")}\n`, encoding: "utf8" });
  t.is(fromTs.status, 0, fromTs.stderr);
  t.deepEqual(fromTs.stdout.split("\n").slice(0, -1), samples.map(record));

  // C packs (the daemons' truncated send), TypeScript decodes: the same bytes as its own encoding.
  const fromC = spawnSync(bin, ["pack"], { input: `${samples.map(record).join("\n")}\n`, encoding: "utf8" });
  t.is(fromC.status, 0, fromC.stderr);
  const lines = fromC.stdout.split("\n").slice(0, -1);
  t.is(lines.length, samples.length);
  lines.forEach((hex, i) => {
    const bytes = Buffer.from(hex, "hex");
    const expected = samples[i] as MtcMessage;
    t.true(bytes.equals(encodeMtcMessage(expected)), `byte-identical for sample ${i}`);
    const d = decodeMtcMessage(bytes);
    t.true(d.ok);
    if (d.ok) t.deepEqual(d.msg, expected);
  });
});
