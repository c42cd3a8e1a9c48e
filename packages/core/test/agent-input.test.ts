/**
 * Hostile input against a real `metal agent` (issue 11): deeply nested, oversized and invalid-UTF-8 bodies,
 * malformed %-escapes, slow headers, BMC secret references that are not private files in the secrets dir.
 * The agent answers each with a 4xx and a reason, and keeps serving.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import test from "ava";
import { AgentProcess } from "./support/agent-process.js";

let agent: AgentProcess;
let secretsDir: string;

test.before(async () => {
  agent = await AgentProcess.create((c) => {
    secretsDir = join(String(c.root), "..", "secrets");
    c.security = { secretsDir };
  });
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  await agent.start();
});
test.after.always(async () => agent?.dispose());

let hostCount = 0;
/** A valid new host (a management address is required since host provisioning checks). */
const host = (name: string, extra: Record<string, unknown> = {}) => ({
  hostname: name,
  personality: "worker",
  mgmtIp: `192.168.204.${10 + (hostCount++ % 200)}`,
  ...extra,
});

test.serial("a bmc field nested 5,000 deep is refused with 400; the inventory still reads", async (t) => {
  const raw = JSON.stringify(host("deep-0", { bmc: "@" })).replace('"@"', `${"[".repeat(5000)}${"]".repeat(5000)}`);
  const r = await agent.request("POST", "/v1/hosts", undefined, { raw });
  t.is(r.status, 400, JSON.stringify(r.body));
  t.regex(String(r.body.reason), /nested deeper/);
  // Within the depth limit but the wrong shape: refused by the schema.
  const shallow = await agent.request("POST", "/v1/hosts", host("deep-1", { bmc: [[[["x"]]]] }));
  t.is(shallow.status, 400);
  t.regex(String(shallow.body.reason), /bmc/);
  t.is((await agent.request("GET", "/v1/hosts", undefined, { token: false })).status, 200);
  t.false((await agent.hosts()).some((h) => h.hostname.startsWith("deep")));
});

test.serial("an oversized body is 413 and invalid UTF-8 is 400; strings with control characters are refused", async (t) => {
  const big = await agent.request("POST", "/v1/hosts", undefined, { raw: JSON.stringify(host("big-0", { pad: "x".repeat(70_000) })) }).catch(() => undefined);
  t.is(big?.status, 413);
  const bytes = Buffer.concat([
    Buffer.from('{"hostname":"utf-0","personality":"worker","bmc":{"type":"ipmi","address":"10.0.0.1","username":"'),
    Buffer.from([0xc3, 0x28, 0xff]),
    Buffer.from('"}}'),
  ]);
  const bad = await agent.request("POST", "/v1/hosts", undefined, { raw: bytes });
  t.is(bad.status, 400);
  t.regex(String(bad.body.reason), /UTF-8/);
  const ctl = await agent.request("POST", "/v1/hosts", host("ctl-0", { bmc: { type: "ipmi", address: "10.0.0.1", username: "ad\u0000min" } }));
  t.is(ctl.status, 400);
  t.regex(String(ctl.body.reason), /control characters/);
  t.is((await agent.request("GET", "/v1/hosts", undefined, { token: false })).status, 200);
});

test.serial("a malformed %-escape in the URL is 400, not 500", async (t) => {
  for (const path of ["/v1/hosts/%E0%A4%A", "/v1/hosts/%", "/v1/hosts/worker-%zz"]) {
    const r = await agent.request("GET", path, undefined, { token: false });
    t.is(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
    const d = await agent.request("DELETE", path);
    t.is(d.status, 400, `DELETE ${path}`);
  }
});

test.serial("a client that trickles its headers is disconnected at headersTimeout (10 s), not ~32 s later", async (t) => {
  const port = Number(new URL(agent.url).port);
  const sock = connect(port, "127.0.0.1");
  const t0 = Date.now();
  const closed = new Promise<number>((resolve) => sock.on("close", () => resolve(Date.now() - t0)));
  sock.on("error", () => undefined);
  sock.write("GET /v1/hosts HTTP/1.1\r\nHost: x\r\n");
  const drip = setInterval(() => sock.write("X-Slow: 1\r\n"), 1000);
  const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 25_000))]);
  clearInterval(drip);
  sock.destroy();
  t.true(ms > 0, "the socket was closed");
  t.true(ms < 16_000, `closed after ${ms} ms`);
});

test.serial(
  "BMC secret files: a 0600 file of ours in security.secretsDir is accepted; 0644, outside paths and /etc/shadow are refused with a reason",
  async (t) => {
    const good = join(secretsDir, "worker-1.pw");
    writeFileSync(good, "pw", { mode: 0o600 });
    const loose = join(secretsDir, "loose.pw");
    writeFileSync(loose, "pw");
    chmodSync(loose, 0o644);
    const outside = join(agent.dir, "outside.pw");
    writeFileSync(outside, "pw", { mode: 0o600 });
    const bmc = (secretRef: string) => ({ type: "dynamic", address: "127.0.0.9", username: "admin", secretRef });
    const ok = await agent.request("POST", "/v1/hosts", host("sec-ok", { bmc: bmc(good) }));
    t.is(ok.status, 201, JSON.stringify(ok.body));
    const byName = await agent.request("POST", "/v1/hosts", host("sec-name", { bmc: bmc("worker-1.pw") }));
    t.is(byName.status, 201, JSON.stringify(byName.body));
    for (const [ref, why] of [
      [loose, /mode 644/],
      [outside, /outside security.secretsDir/],
      ["/etc/shadow", /outside security.secretsDir/],
      [join(secretsDir, "missing.pw"), /ENOENT/],
      [`${secretsDir}/../outside.pw`, /'\.\.'/],
    ] as const) {
      const r = await agent.request("POST", "/v1/hosts", host("sec-bad", { bmc: bmc(ref) }));
      t.is(r.status, 400, `${ref}: ${JSON.stringify(r.body)}`);
      t.regex(String(r.body.reason), why);
    }
    const mod = await agent.request("PATCH", "/v1/hosts/sec-ok", { bmc: bmc("/etc/shadow") });
    t.is(mod.status, 400);
    t.false((await agent.hosts()).some((h) => h.hostname === "sec-bad"));
  },
);
