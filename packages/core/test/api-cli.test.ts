import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { execa } from "execa";
import { AgentApi } from "../src/api/agent-api.js";
import { ApiClient, ApiError } from "../src/api/client.js";
import { secretFromString } from "../src/di/secret.js";
import { silentLogger } from "../src/logging/logger.js";
import { Rig } from "./support/agent-rig.js";

const main = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");
const TOKEN = "s3cr3t-token-for-tests";

async function serve(t: import("ava").ExecutionContext, withToken = true) {
  const rig = new Rig();
  await rig.agent.start();
  const api = new AgentApi({ agent: rig.agent, log: silentLogger(), address: "127.0.0.1", port: 0, ...(withToken ? { token: secretFromString(TOKEN) } : {}) });
  const { port } = await api.start();
  t.teardown(async () => {
    await api.stop();
    await rig.stop();
  });
  return { rig, url: `http://127.0.0.1:${port}` };
}

async function rejects(t: import("ava").ExecutionContext, p: Promise<unknown>, status: number, reason: string | RegExp) {
  const err = await t.throwsAsync(p, { instanceOf: ApiError });
  t.is(err?.status, status);
  if (typeof reason === "string") t.is(err?.message, reason);
  else t.regex(err?.message ?? "", reason);
}

test("REST: hosts CRUD and actions; mutations need the token; errors are JSON with a reason", async (t) => {
  const { rig, url } = await serve(t);
  const anon = new ApiClient(url);
  const api = new ApiClient(url, TOKEN);
  await rejects(t, anon.request("POST", "/v1/hosts", { hostname: "worker-0", personality: "worker" }), 401, "missing or wrong bearer token");
  await rejects(t, new ApiClient(url, "wrong-token-of-other-len").request("POST", "/v1/hosts", {}), 401, "missing or wrong bearer token");
  const added = await api.request<{ host: { hostname: string; administrative: string; action: string } }>("POST", "/v1/hosts", {
    hostname: "worker-0",
    personality: "worker",
    mgmtIp: "192.168.204.50",
  });
  t.is(added.host.administrative, "locked");
  t.is(added.host.action, "add");
  await rejects(
    t,
    api.request("POST", "/v1/hosts", { hostname: "worker-0", personality: "worker", mgmtIp: "192.168.204.51" }),
    409,
    "host worker-0 already exists",
  );
  await rejects(t, api.request("POST", "/v1/hosts", { hostname: "Worker_0", personality: "worker" }), 400, /hostname/);
  const list = await anon.request<{ hosts: Array<{ hostname: string }> }>("GET", "/v1/hosts");
  t.deepEqual(
    list.hosts.map((h) => h.hostname),
    ["worker-0"],
  );
  await rejects(t, anon.request("GET", "/v1/hosts/nobody"), 404, "no host named 'nobody'");
  await rejects(t, anon.request("GET", "/v2/things"), 404, /no such resource/);
  await rejects(t, api.request("PATCH", "/v1/hosts/worker-0", { action: "launch-missiles" }), 409, "unsupported action 'launch-missiles'");
  await rejects(t, api.request("PATCH", "/v1/hosts/worker-0", { nope: 1 }), 400, /cannot modify nope \(modifiable: mgmtIp/);
  await rejects(
    t,
    api.request("PATCH", "/v1/hosts/worker-0", { action: "lock", administrative: "unlocked" }),
    400,
    'an action request is {"action": "<action>"}',
  );
  await rejects(t, api.request("PATCH", "/v1/hosts/worker-0", { mgmtMac: "nope" }), 400, "mgmtMac: six colon-separated hex octets");
  const modified = await api.request<{ host: { bmc: { type: string; address: string } } }>("PATCH", "/v1/hosts/worker-0", {
    bmc: { type: "fake", address: "10.0.0.9", username: "admin", secretRef: "/nonexistent" },
  });
  t.deepEqual(modified.host.bmc, { type: "fake", address: "10.0.0.9", username: "admin", secretRef: "/nonexistent" });
  await rejects(t, api.request("PATCH", "/v1/hosts/nobody", { mgmtIp: "10.0.0.1" }), 404, "no host named 'nobody'");
  // Raw bad JSON and an oversized body.
  const bad = await fetch(`${url}/v1/hosts`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: "{not json" });
  t.is(bad.status, 400);
  t.like(await bad.json(), { status: "fail", reason: "request body is not valid JSON" });
  const big = await fetch(`${url}/v1/hosts`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ pad: "x".repeat(70_000) }),
  }).catch(() => undefined);
  t.is(big?.status, 413);
  // Unlock queues behind add, then the host is enabled (virtual time).
  const q = await api.request<{ queued: boolean }>("PATCH", "/v1/hosts/worker-0", { action: "unlock" });
  t.true(q.queued);
  rig.fabric.add("worker-0");
  t.true(await rig.until(() => rig.state("worker-0") === "unlocked-enabled-available", 10 * 60_000));
  await rejects(t, api.request("PATCH", "/v1/hosts/worker-0", { action: "reboot" }), 409, "Cannot perform out-of-service action against in-service host");
  await rejects(t, api.request("DELETE", "/v1/hosts/worker-0"), 409, "Cannot delete an unlocked host; lock it first");
  const alarms = await anon.request<{ alarms: unknown[] }>("GET", "/v1/alarms");
  t.true(Array.isArray(alarms.alarms));
});

test("REST: without a configured token every mutation is refused", async (t) => {
  const { url } = await serve(t, false);
  await rejects(
    t,
    new ApiClient(url, TOKEN).request("POST", "/v1/hosts", { hostname: "w", personality: "worker" }),
    403,
    "mutations are disabled: no api.tokenFile is configured",
  );
});

test("CLI: host-add, host-list --json, host-lock/unlock, host-show, alarm-list, fsm show, and clear errors", async (t) => {
  const { rig, url } = await serve(t);
  const dir = mkdtempSync(join(tmpdir(), "metal-cli-"));
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  chmodSync(tokenFile, 0o600);
  const metal = (...args: string[]) => execa(process.execPath, [main, ...args], { reject: false, timeout: 30_000 });
  const add = await metal("host-add", "worker-3", "--personality", "worker", "--mgmt-ip", "192.168.204.53", "--url", url, "--token-file", tokenFile);
  t.is(add.exitCode, 0, add.stderr);
  t.regex(add.stdout, /worker-3: added \(locked-disabled-offline\)/);
  rig.fabric.add("worker-3");
  t.true(await rig.until(() => rig.state("worker-3") === "locked-disabled-online" && rig.get("worker-3").action === "none", 5 * 60_000));
  const list = await metal("host-list", "--json", "--url", url);
  t.is(list.exitCode, 0, list.stderr);
  t.is((JSON.parse(list.stdout) as Array<{ availability: string }>)[0]?.availability, "online");
  const table = await metal("host-list", "--url", url);
  t.regex(table.stdout, /worker-3.*locked.*disabled.*online/);
  const lockAgain = await metal("host-lock", "worker-3", "--url", url, "--token-file", tokenFile);
  t.is(lockAgain.exitCode, 1);
  t.is(lockAgain.stderr.trim(), "metal: worker-3 is already locked");
  const unlock = await metal("host-unlock", "worker-3", "--url", url, "--token-file", tokenFile);
  t.is(unlock.exitCode, 0, unlock.stderr);
  t.is(unlock.stdout.trim(), "worker-3: unlock accepted");
  t.true(await rig.until(() => rig.state("worker-3") === "unlocked-enabled-available", 10 * 60_000));
  const show = await metal("host-show", "worker-3", "--url", url);
  t.regex(show.stdout, /│ availability\s+│ available\s+│/);
  const lock = await metal("host-lock", "worker-3", "--url", url, "--token-file", tokenFile);
  t.is(lock.exitCode, 0, lock.stderr);
  t.true(await rig.until(() => rig.state("worker-3") === "locked-disabled-online" && rig.get("worker-3").action === "none", 10 * 60_000));
  const alarms = await metal("alarm-list", "--json", "--url", url);
  t.true((JSON.parse(alarms.stdout) as Array<{ id: string; hostname: string }>).some((a) => a.id === "200.001" && a.hostname === "worker-3"));
  const alarmTable = await metal("alarm-list", "--url", url);
  t.regex(alarmTable.stdout, /200\.001.*host=worker-3.*warning/);
  const noToken = await metal("host-reboot", "worker-3", "--url", url);
  t.is(noToken.exitCode, 1);
  t.is(noToken.stderr.trim(), "metal: missing or wrong bearer token");
  const badHost = await metal("host-reboot", "Bad;Name", "--url", url);
  t.is(badHost.exitCode, 2);
  const down = await metal("host-list", "--url", "http://127.0.0.1:1");
  t.is(down.exitCode, 1);
  t.regex(down.stderr, /^metal: cannot reach the mtcAgent API at http:\/\/127\.0\.0\.1:1/);
  const fsm = await metal("fsm", "show", "enable");
  t.is(fsm.exitCode, 0);
  t.regex(fsm.stdout, /^stateDiagram-v2/);
  t.regex(fsm.stdout, /HEARTBEAT_SOAK --> FAILURE : heartbeat loss during soak/);
  const unknown = await metal("fsm", "show", "nope");
  t.is(unknown.exitCode, 2);
  t.regex(unknown.stderr, /no handler named 'nope'/);
});
