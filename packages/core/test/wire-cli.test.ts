import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { mtcAliveMessage } from "../src/wire/mtc-alive.js";
import { MtcCmd } from "../src/wire/mtc-codes.js";
import { MtcFlag } from "../src/wire/mtc-flags.js";
import { encodeMtcMessage } from "../src/wire/mtc-message.js";
import { METAL_MAIN } from "./helpers/client-process.js";

const metal = (...args: string[]) => spawnSync(process.execPath, [METAL_MAIN, ...args], { encoding: "utf8", timeout: 60_000 });

test("metal wire encode then decode: a reboot command with its MAC and JSON payload", (t) => {
  const enc = metal(
    "wire",
    "encode",
    "--json",
    JSON.stringify({ signature: "cmdReq", cmd: "MTC_CMD_REBOOT", mac: "52:54:00:aa:bb:cc", payload: { interface: "Mgmnt" } }),
  );
  t.is(enc.status, 0, enc.stderr);
  const hex = enc.stdout.trim();
  t.is(hex.length / 2, 100 + '{"interface":"Mgmnt"}'.length + 1, "the truncated send");
  const dec = metal("wire", "decode", "--hex", hex);
  t.is(dec.status, 0, dec.stderr);
  t.like(JSON.parse(dec.stdout), {
    signature: "cgts mtc cmd req:",
    signatureName: "cmdReq",
    mac: "52:54:00:aa:bb:cc",
    cmd: MtcCmd.MTC_CMD_REBOOT,
    cmdName: "MTC_CMD_REBOOT",
    ver: 2,
    json: { interface: "Mgmnt" },
  });
  const full = metal("wire", "encode", "--full", "--json", '{"signature":"cgts mtc cmd rsp:","cmd":1}');
  t.is(full.stdout.trim().length, 2120);
});

test("metal wire decode shows an mtcAlive's flag names", (t) => {
  const alive = encodeMtcMessage(
    mtcAliveMessage({
      uptime: 300,
      health: 1,
      flags: MtcFlag.I_AM_CONFIGURED | MtcFlag.I_AM_LOCKED,
      sequence: 9,
      payload: { hostname: "worker-3", personality: "worker", interface: "Pxeboot", sequence: 9 },
    }),
  );
  const r = metal("wire", "decode", "--hex", alive.toString("hex"));
  t.is(r.status, 0, r.stderr);
  t.like(JSON.parse(r.stdout), { cmdName: "MTC_MSG_MTCALIVE", mtcAlive: { uptime: 300, flags: ["I_AM_CONFIGURED", "I_AM_LOCKED"], sequence: 9 } });
});

test("malformed input: exit 2 and a one-line reason", (t) => {
  const cases: Array<[string[], RegExp]> = [
    [["wire", "decode", "--hex", "abc"], /^metal: --hex: not an even number of hex digits$/],
    [["wire", "decode", "--hex", "zz"], /^metal: --hex: not an even number of hex digits$/],
    [["wire", "decode", "--hex", "00".repeat(10)], /^metal: --hex: short datagram: 10 bytes/],
    [["wire", "decode", "--hex", "00".repeat(1061)], /^metal: --hex: 1061 bytes; an mtc message is at most 1060$/],
    [["wire", "encode", "--json", "{nope"], /^metal: --json: /],
    [["wire", "encode", "--json", '{"signature":"bogus","cmd":1}'], /^metal: --json: signature: 'bogus' is neither/],
    [["wire", "encode", "--json", '{"signature":"cmdReq","cmd":"MTC_NOPE"}'], /^metal: --json: cmd: unknown code name 'MTC_NOPE'$/],
    [["wire", "encode", "--json", '{"signature":"cmdReq","cmd":1,"parm":[1,2,3,4,5,6]}'], /^metal: --json: parm: /],
    [["wire", "encode", "--json", `{"signature":"cmdReq","cmd":1,"buf":"${"x".repeat(2000)}"}`], /^metal: --json: mtc message buf is 2000 bytes; at most 959$/],
  ];
  for (const [args, re] of cases) {
    const r = metal(...args);
    t.is(r.status, 2, args.join(" "));
    t.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    t.regex(r.stderr.trim(), re);
  }
});

test("metal client refuses a config without the node's MAC, with a one-line reason", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-client-cfg-"));
  const f = join(dir, "c.json");
  writeFileSync(f, JSON.stringify({ root: dir, networks: { mgmt: { address: "127.0.1.70", controller: "127.0.0.1" } } }));
  const r = metal("client", "--config", f);
  t.is(r.status, 1);
  t.regex(r.stderr.trim(), /^metal: client: node\.mac is required/m);
});
