/**
 * Provisioning input is checked the same way in the CLI, the API and the config: IPv4/IPv6 addresses, BMC types
 * a loaded plugin provides, secret files that exist and are private, a mgmt address for every host; and
 * `metal host-update` changes provisioning fields.
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { execa } from "execa";
import { AgentApi } from "../src/api/agent-api.js";
import { ApiClient, ApiError } from "../src/api/client.js";
import { ConfigError, loadConfigFile } from "../src/config/load.js";
import { secretFromString } from "../src/di/secret.js";
import { validateNewHost } from "../src/inventory/record-schema.js";
import { silentLogger } from "../src/logging/logger.js";
import { Rig } from "./support/agent-rig.js";

const main = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");
const TOKEN = "provisioning-test-token";

test("validateNewHost: IPv4 and IPv6 only; a BMC address is an IP or a DNS name, never a bad dotted quad", (t) => {
  const base = { hostname: "worker-0", personality: "worker" as const };
  t.is(validateNewHost({ ...base, mgmtIp: "192.168.204.10" }), undefined);
  t.is(validateNewHost({ ...base, mgmtIp: "fd00::10" }), undefined);
  t.is(validateNewHost({ ...base, mgmtIp: "999.1.1.1" }), "mgmtIp: not an IP address");
  t.is(validateNewHost({ ...base, clusterHostIp: "::g" }), "clusterHostIp: not an IP address");
  const bmc = { type: "ipmi", address: "bmc-0.example.net", username: "root", secretRef: "/etc/pw" };
  t.is(validateNewHost({ ...base, bmc }), undefined);
  t.is(validateNewHost({ ...base, bmc: { ...bmc, address: "300.1.1.1" } }), "bmc.address: an IP address or a DNS name");
  t.is(validateNewHost({ ...base, bmc: { ...bmc, address: "a b" } }), "bmc.address: an IP address or a DNS name");
});

test("config: an address that is not IPv4/IPv6 is refused with its path", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-prov-"));
  writeFileSync(join(dir, "bad.yaml"), "networks:\n  mgmt:\n    address: 999.1.1.1\n");
  const err = await t.throwsAsync(loadConfigFile(join(dir, "bad.yaml")));
  t.true(err instanceof ConfigError);
  t.regex(err?.message ?? "", /networks\.mgmt\.address: not an IPv4 or IPv6 address/);
  writeFileSync(join(dir, "good.yaml"), "networks:\n  mgmt:\n    address: fd00::1\n");
  await t.notThrowsAsync(loadConfigFile(join(dir, "good.yaml")));
});

test("API and CLI: bad addresses, unknown BMC types, missing or open secret files, no mgmt IP are refused; host-update changes provisioning", async (t) => {
  const rig = new Rig();
  await rig.agent.start();
  const server = new AgentApi({ agent: rig.agent, log: silentLogger(), address: "127.0.0.1", port: 0, token: secretFromString(TOKEN) });
  const { port } = await server.start();
  t.teardown(async () => {
    await server.stop();
    await rig.stop();
  });
  const url = `http://127.0.0.1:${port}`;
  const api = new ApiClient(url, TOKEN);
  const refused = async (body: Record<string, unknown>, reason: RegExp) => {
    const err = await t.throwsAsync(api.request("POST", "/v1/hosts", body), { instanceOf: ApiError });
    t.is(err?.status, 400);
    t.regex(err?.message ?? "", reason);
  };
  await refused({ hostname: "worker-0", personality: "worker", mgmtIp: "999.1.1.1" }, /mgmtIp: not an IP address$/);
  await refused({ hostname: "worker-0", personality: "worker" }, /^mgmtIp: required/);
  await refused(
    { hostname: "worker-0", personality: "worker", mgmtIp: "10.0.0.5", bmc: { type: "acme", address: "10.1.0.5", username: "u" } },
    /^bmc\.type: no plugin provides BMC type 'acme' \(known: fake, dynamic\)$/,
  );

  const dir = mkdtempSync(join(tmpdir(), "metal-prov-"));
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
  const pw = join(dir, "bmc.pw");
  writeFileSync(pw, "secret", { mode: 0o600 });
  const open = join(dir, "open.pw");
  writeFileSync(open, "secret");
  chmodSync(open, 0o644);
  const env = { METAL_URL: url, METAL_TOKEN_FILE: tokenFile, METAL_CONFIG: "" };
  const metal = (...args: string[]) => execa(process.execPath, [main, ...args], { reject: false, env, timeout: 120_000 });
  const add = ["host-add", "worker-1", "--personality", "worker"];
  const bmc = ["--bm-ip", "10.1.0.6", "--bm-username", "admin"];
  const [badIp, noIp, noSecret, missing, tooOpen, acme] = await Promise.all([
    metal(...add, "--mgmt-ip", "999.1.1.1"),
    metal(...add),
    metal(...add, "--mgmt-ip", "10.0.0.6", "--bm-type", "fake", ...bmc),
    metal(...add, "--mgmt-ip", "10.0.0.6", "--bm-type", "fake", ...bmc, "--bm-secret-file", join(dir, "nope")),
    metal(...add, "--mgmt-ip", "10.0.0.6", "--bm-type", "fake", ...bmc, "--bm-secret-file", open),
    metal(...add, "--mgmt-ip", "10.0.0.6", "--bm-type", "acme", ...bmc, "--bm-secret-file", pw, "-f", "json"),
  ]);
  t.is(badIp.exitCode, 2);
  t.is(badIp.stderr, "metal: --mgmt-ip: '999.1.1.1' is not an IPv4 or IPv6 address");
  t.is(noIp.exitCode, 2);
  t.regex(noIp.stderr, /^metal: --mgmt-ip is required/);
  t.is(noSecret.exitCode, 2);
  t.regex(noSecret.stderr, /^metal: --bm-secret-file is required for a BMC/);
  t.is(missing.exitCode, 2);
  t.is(missing.stderr, `metal: --bm-secret-file: ${join(dir, "nope")}: no such file`);
  t.is(tooOpen.exitCode, 2);
  t.regex(tooOpen.stderr, /permissions 644 are too open; use chmod 600/);
  t.is(acme.exitCode, 1);
  t.deepEqual(JSON.parse(acme.stderr), { status: "fail", reason: "bmc.type: no plugin provides BMC type 'acme' (known: fake, dynamic)" });
  t.is(rig.agent.host("worker-1"), undefined, "nothing was added");

  const ok = await metal(...add, "--mgmt-ip", "10.0.0.6", "--bm-type", "fake", ...bmc, "--bm-secret-file", pw);
  t.is(ok.exitCode, 0, ok.stderr);
  t.is(ok.stdout, "worker-1: added (locked-disabled-offline)");
  // host-update: one BMC field alone keeps the others; the personality of a locked host; JSON output.
  const upd = await metal("host-update", "worker-1", "--bm-ip", "10.1.0.7", "--personality", "storage", "--pxeboot-ip", "fd00::7", "-f", "json");
  t.is(upd.exitCode, 0, upd.stderr);
  t.like(JSON.parse(upd.stdout), {
    hostname: "worker-1",
    personality: "storage",
    subfunctions: ["storage"],
    pxebootIp: "fd00::7",
    bmc: { type: "fake", address: "10.1.0.7", username: "admin", secretRef: pw },
  });
  const [bad, nothing] = await Promise.all([metal("host-update", "worker-1", "--mgmt-ip", "1.2.3"), metal("host-update", "worker-1")]);
  t.is(bad.exitCode, 2);
  t.is(bad.stderr, "metal: --mgmt-ip: '1.2.3' is not an IPv4 or IPv6 address");
  t.is(nothing.exitCode, 2);
  t.regex(nothing.stderr, /^metal: nothing to update/);
  // The personality of an unlocked host stays.
  rig.host("worker-2", { administrative: "unlocked" });
  const err = await t.throwsAsync(api.request("PATCH", "/v1/hosts/worker-2", { personality: "storage" }), { instanceOf: ApiError });
  t.regex(err?.message ?? "", /^personality and subfunctions change only on a locked host/);
});
