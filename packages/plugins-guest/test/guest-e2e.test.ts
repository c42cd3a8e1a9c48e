import { chmodSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { InventoryCmd } from "../src/udp/codes.js";
import { FakeVim, freePort, freeUdpPort, UdpPeer, waitFor } from "./helpers/net.js";
import { metal, type Proc, socatChannel, stopAll } from "./helpers/processes.js";

const HOST_UUID = "aaaaaaaa-0000-4000-8000-00000000000a";
const A = "11111111-aaaa-4bbb-8ccc-000000000001"; // votes reject, then goes silent (loss)
const B = "22222222-aaaa-4bbb-8ccc-000000000002"; // unhealthy
const C = "33333333-aaaa-4bbb-8ccc-000000000003"; // event script too slow: vote timeout

/** Bound on a metal process's start-up (node start of the CLI alone takes 10+ s on a loaded 2-core machine). */
const START_MS = 120_000;

/** Wait (bounded by START_MS) until a process printed its start line, so the timed waits below count from there. */
async function started(p: Proc, line: string): Promise<boolean> {
  return waitFor(() => p.output().includes(line) || p.child.exitCode !== null, START_MS);
}

function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** The VIM's calls to guestAgent's API, with the VIM's User-Agent. */
async function vimCall(apiPort: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`http://127.0.0.1:${apiPort}${path}`, {
    method,
    headers: { "User-Agent": "vim/1.0", "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, body: text.trim() ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

test("guestServer + guestAgent + guest clients through socat ptys: enabled, vote reject, notify proceed, vote timeout, unhealthy, loss, socket removal", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "metal-guest-e2e-"));
  const qemu = join(root, "qemu");
  mkdirSync(qemu);
  const procs: Proc[] = [];
  const vim = await FakeVim.start();
  const mtcAgent = await UdpPeer.bind();
  t.teardown(async () => {
    await stopAll(procs);
    await vim.close();
    await mtcAgent.close();
    rmSync(root, { recursive: true, force: true });
  });
  const dump = () => procs.map((p) => p.output()).join("\n----\n");

  const [agentUdp, inventoryPort, apiPort, serverUdp] = [await freeUdpPort(), await freeUdpPort(), await freePort(), await freeUdpPort()];
  const guest = {
    agent: { port: agentUdp, apiPort, vimUrl: `http://127.0.0.1:${vim.port}`, auditSeconds: 1 },
    server: { port: serverUdp, agentAddress: "127.0.0.1" },
  };
  const ports = { guestCmd: inventoryPort, hbsEvent: mtcAgent.port };
  writeFileSync(
    join(root, "agent.json"),
    JSON.stringify({ node: { hostname: "controller-0" }, networks: { mgmt: { controller: "127.0.0.1" } }, ports, guest, logging: { level: "debug" } }),
  );
  writeFileSync(
    join(root, "server.json"),
    JSON.stringify({ node: { hostname: "worker-0", subfunctions: ["worker"] }, ports, guest, logging: { level: "debug" } }),
  );

  const agent = metal("guest-agent", "--config", join(root, "agent.json"));
  procs.push(agent);
  t.true(await started(agent, "guestAgent started"), `guestAgent started\n${dump()}`);
  // guestAgent asks mtcAgent for the inventory; the test plays mtcAgent and answers with ADD_HOST.
  t.true(await waitFor(() => mtcAgent.received.length > 0, 20_000), `inventory request reaches mtcAgent\n${dump()}`);
  mtcAgent.send(inventoryPort, InventoryCmd.MTC_CMD_ADD_HOST, { hostname: "worker-0", uuid: HOST_UUID, ip: "127.0.0.1", personality: "worker" });
  const server = metal("guest-server", "--config", join(root, "server.json"), "--channel-dir", qemu);
  procs.push(server);
  t.true(await started(server, "guestServer started"), `guestServer started\n${dump()}`);

  // The VIM: host known, reporting on, three instances added with heartbeat enabled.
  t.true(await pollStatus(apiPort, 200), `host known to guestAgent\n${dump()}`);
  t.is((await vimCall(apiPort, "PUT", `/v1/hosts/${HOST_UUID}/enable`, { uuid: HOST_UUID, hostname: "worker-0" })).status, 200);
  for (const uuid of [A, B, C]) {
    const r = await vimCall(apiPort, "POST", `/v1/instances/${uuid}`, { uuid, hostname: "worker-0", services: [{ service: "heartbeat", state: "enabled" }] });
    t.is(r.status, 200, JSON.stringify(r.body));
  }
  vim.instances = [A, B, C].map((uuid) => ({ uuid, hostname: "worker-0", services: [{ service: "heartbeat", state: "enabled" }] }));

  // Each VM: QEMU's socket bridged by socat to a pty, the guest client on the pty.
  const voteScript = script(root, "vote.sh", 'if [ "$1" = revocable ]; then echo "database transaction in progress"; exit 1; fi\nexit 0');
  const slowScript = script(root, "slow.sh", "sleep 30");
  const sickScript = script(root, "sick.sh", 'echo "disk /data full"; exit 1');
  const vm = async (uuid: string, args: string[]) => {
    const vport = join(root, `vport-${uuid.slice(0, 8)}`);
    procs.push(await socatChannel(join(qemu, `cgcs.heartbeat.${uuid}.sock`), vport));
    const client = metal("guest-client", "--device", vport, "--interval-ms", "400", ...args);
    procs.push(client);
    return client;
  };
  const clientA = await vm(A, ["--corrective-action", "stop", "--event-script", voteScript]);
  const clientB = await vm(B, ["--corrective-action", "reboot", "--health-script", sickScript, "--health-interval", "1"]);
  const clientC = await vm(C, ["--event-script", slowScript, "--vote-secs", "1"]);
  for (const c of [clientA, clientB, clientC]) t.true(await started(c, "guest heartbeat state"), `guest client started\n${dump()}`);

  // instance appears -> heartbeating -> VIM told "enabled"
  const enabled = (uuid: string) =>
    vim.patches(uuid, "service").some((b) => (b["event-data"] as { services: Array<{ status: string }> }).services[0]?.status === "enabled");
  t.true(await waitFor(() => enabled(A) && enabled(C), 30_000), `VIM told heartbeat enabled\n${dump()}`);
  const svc = vim.patches(A, "service")[0] as { hostname: string; "event-data": { services: Array<Record<string, string>> } };
  t.is(svc.hostname, "worker-0");
  t.deepEqual(svc["event-data"].services[0], { service: "heartbeat", state: "enabled", status: "enabled", "restart-timeout": "121" });
  t.is(vim.requests.find((r) => r.method === "PATCH")?.userAgent, "guest-agent/1.0");
  t.deepEqual((await vimCall(apiPort, "GET", `/v1/instances/${A}`)).body.services, [
    { service: "heartbeat", state: "enabled", "restart-timeout": "121", status: "enabled" },
  ]);

  // unhealthy guest -> alarm "unhealthy" with the guest's action
  t.true(await waitFor(() => vim.patches(B, "alarm").length > 0, 30_000), `unhealthy alarm\n${dump()}`);
  t.deepEqual((vim.patches(B, "alarm")[0] as { "event-data": unknown })["event-data"], {
    services: [{ service: "heartbeat", state: "unhealthy", "repair-action": "reboot" }],
  });

  // vote rejected by the guest's script -> VIM gets "reject" with the script's reason
  const vote = await vimCall(apiPort, "POST", `/v1/instances/${A}/vote`, { uuid: A, hostname: "worker-0", action: "stop" });
  t.deepEqual(vote.body, { uuid: A, hostname: "worker-0", action: "stop", timeout: "11" });
  t.true(await waitFor(() => vim.patches(A, "action").length > 0, 20_000), `vote answer\n${dump()}`);
  t.deepEqual(vim.patches(A, "action")[0], {
    uuid: A,
    "event-type": "action",
    "event-data": { action: "stop", "guest-response": "reject", reason: "database transaction in progress" },
  });

  // notify -> "proceed"
  await vimCall(apiPort, "POST", `/v1/instances/${A}/notify`, { uuid: A, hostname: "worker-0", action: "unpause" });
  t.true(await waitFor(() => vim.patches(A, "action").length > 1, 20_000), `notify answer\n${dump()}`);
  t.like(vim.patches(A, "action")[1], { "event-data": { action: "unpause", "guest-response": "proceed" } });

  // vote timeout (the script outlives the guest's budget) counts as agreement
  const slow = await vimCall(apiPort, "POST", `/v1/instances/${C}/vote`, { uuid: C, hostname: "worker-0", action: "reboot" });
  t.is(slow.body.timeout, "2");
  t.true(await waitFor(() => vim.patches(C, "action").length > 0, 20_000), `vote timeout answer\n${dump()}`);
  t.like(vim.patches(C, "action")[0], { "event-data": { action: "reboot", "guest-response": "allow" } });

  // guest stops answering -> loss -> VIM alarm "failed" with the guest's repair action
  clientA.child.kill("SIGSTOP");
  const stoppedAt = Date.now();
  t.true(await waitFor(() => vim.patches(A, "alarm").length > 0, 30_000), `loss alarm\n${dump()}`);
  t.deepEqual(vim.patches(A, "alarm")[0], {
    uuid: A,
    hostname: "worker-0",
    "event-type": "alarm",
    "event-data": { services: [{ service: "heartbeat", state: "failed", "repair-action": "stop" }] },
  });
  t.log(`loss reached the VIM ${Date.now() - stoppedAt} ms after the guest froze (interval 400 ms; timing is asserted in virtual time)`);
  clientA.child.kill("SIGCONT");

  // a guest shutting down sends exit: the VIM hears "disabled", and no loss alarm follows
  clientB.child.kill("SIGTERM");
  const disabled = (uuid: string) =>
    vim.patches(uuid, "service").some((b) => (b["event-data"] as { services: Array<{ status: string }> }).services[0]?.status === "disabled");
  t.true(await waitFor(() => disabled(B), 20_000), `exit -> heartbeat disabled\n${dump()}`);
  await new Promise((r) => setTimeout(r, 1500));
  t.false(
    vim.patches(B, "alarm").some((b) => JSON.stringify(b).includes('"failed"')),
    "a graceful exit is not a loss",
  );

  // socket deleted -> instance removed (guestServer logs the removal)
  unlinkSync(join(qemu, `cgcs.heartbeat.${C}.sock`));
  t.true(await waitFor(() => procs.some((p) => p.output().includes(`"uuid":"${C}","msg":"guest instance removed"`)), 20_000), `removal\n${dump()}`);
});

/** Poll POST /v1/hosts/<uuid> until guestAgent knows the host (bounded). */
async function pollStatus(apiPort: number, want: number): Promise<boolean> {
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    try {
      if ((await vimCall(apiPort, "POST", `/v1/hosts/${HOST_UUID}`, {})).status === want) return true;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
