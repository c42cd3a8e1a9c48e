/**
 * `metal agent` as a real process: the REST API with a token file, the host inventory written to disk and
 * recovered by the next agent process, a clean exit on SIGTERM.
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { execa, type ResultPromise } from "execa";
import { freeUdpPorts } from "../src/transport/free-ports.js";

const main = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");

async function waitForApi(url: string, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    try {
      const r = await fetch(`${url}/v1/hosts`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

test("metal agent serves the API, keeps the inventory on disk, and a restarted agent recovers it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-agent-"));
  // Every port free and its own, mtcalarm included: another test's agent may hold the default 2122.
  const [agentMgmt, agentPxeboot, hbsCmd, hbsEvent, api, mtcalarm] = await freeUdpPorts(6);
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, "agent-test-token\n");
  chmodSync(tokenFile, 0o600);
  const config = {
    root: join(dir, "root"),
    node: { hostname: "controller-0", subfunctions: ["controller"] },
    networks: { mgmt: { address: "127.0.0.1", controller: "127.0.0.1" } },
    ports: { agentMgmt, agentPxeboot, hbsCmd, hbsEvent, mtcalarm },
    api: { address: "127.0.0.1", port: api, tokenFile },
    heartbeat: { agents: [{ hostname: "controller-0", address: "127.0.0.1" }] },
    plugins: { discover: false },
    logging: { level: "warn" },
  };
  const cfgFile = join(dir, "agent.json");
  writeFileSync(cfgFile, JSON.stringify(config));
  const url = `http://127.0.0.1:${api}`;
  const metal = (...args: string[]) => execa(process.execPath, [main, ...args], { reject: false, timeout: 60_000 });
  const start = (): ResultPromise => execa(process.execPath, [main, "agent", "--config", cfgFile], { reject: false });

  let agent = start();
  t.teardown(() => {
    agent.kill("SIGKILL");
  });
  t.true(await waitForApi(url, 120_000), "the API came up");
  const add = await metal(
    "host-add",
    "worker-0",
    "--personality",
    "worker",
    "--mgmt-ip",
    "127.0.9.10",
    "--mgmt-mac",
    "52:54:00:09:00:0a",
    "--url",
    url,
    "--token-file",
    tokenFile,
  );
  t.is(add.exitCode, 0, add.stderr);
  const lock = await metal("host-lock", "worker-0", "--url", url, "--token-file", tokenFile);
  t.is(lock.exitCode, 1);
  t.is(lock.stderr.trim(), "metal: worker-0 is already locked");
  // SIGTERM: the agent flushes and exits 0.
  agent.kill("SIGTERM");
  const first = await agent;
  t.is(first.exitCode, 0, String(first.stderr));

  agent = start();
  t.true(await waitForApi(url, 30_000), "the API came back");
  const list = await metal("host-list", "--json", "--url", url);
  t.is(list.exitCode, 0, list.stderr);
  const hosts = JSON.parse(list.stdout) as Array<{ hostname: string; mgmtMac: string; administrative: string; action: string }>;
  t.is(hosts.length, 1);
  t.like(hosts[0], { hostname: "worker-0", mgmtMac: "52:54:00:09:00:0a", administrative: "locked", action: "add" });
  agent.kill("SIGTERM");
  t.is((await agent).exitCode, 0);
});
