/**
 * bm_type dynamic through `metal agent` (reference §6.1): the agent learns each BMC's protocol on first use,
 * keeps it with the host in the inventory file (bmc.learned and mtce_info bmc_protocol), and a second agent
 * process on the same state dir uses it without learning again.
 * Peers: the Redfish emulator over https (its self-signed CA given to the agent through NODE_EXTRA_CA_CERTS, as an
 * operator would install a BMC's CA) and ipmi_sim driven by ipmitool. Learning ipmi_sim's protocol asks for a
 * Redfish service root at its address; a TCP listener there counts those attempts and refuses them.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { nodePaths } from "@metal/core/config/index";
import { FileInventoryStore } from "@metal/core/inventory/file-store";
import { newHostRecord } from "@metal/core/inventory/host";
import type { HostRecord } from "@metal/core/inventory/store";
import { freeUdpPorts } from "@metal/core/transport/free-ports";
import { IpmiSim } from "@metal/plugin-ipmi/testing/ipmi-sim";
import { RedfishEmulator } from "@metal/plugin-redfish";
import { selfSignedCert } from "@metal/plugin-redfish/emulator/test-cert";
import test from "ava";
import { execa, type ResultPromise } from "execa";
import { waitFor } from "./wait.js";

const main = fileURLToPath(new URL("../../packages/core/dist/src/cli/main.js", import.meta.url));

test.serial("a dynamic BMC's learned protocol is kept with the host and reused by the next agent", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-bmc-learned-"));
  const { dir: certDir, cert, key } = selfSignedCert();
  const emulator = new RedfishEmulator();
  const { port: rfPort } = await emulator.listen({ port: 0, host: "127.0.0.1", tls: { cert: readFileSync(cert), key: readFileSync(key) } });
  const sim = await IpmiSim.start({ sensors: [] });
  // Redfish learning for the ipmi_sim BMC connects to TCP at its address and port: count and refuse.
  let rootAttemptsAtSim = 0;
  const refuser: Server = createServer((s) => {
    rootAttemptsAtSim++;
    s.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    refuser.once("error", reject);
    refuser.listen(sim.port, "127.0.0.1", () => resolve());
  });
  let agent: ResultPromise | undefined;
  t.teardown(async () => {
    agent?.kill("SIGKILL");
    await emulator.close();
    await sim.stop();
    refuser.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(certDir, { recursive: true, force: true });
  });

  const secret = (name: string, value: string) => {
    const f = join(dir, name);
    writeFileSync(f, value);
    chmodSync(f, 0o600);
    return f;
  };
  const root = join(dir, "root");
  const store = new FileInventoryStore({ stateDir: nodePaths(root).agentState });
  const host = (hostname: string, last: number, bmc: NonNullable<HostRecord["bmc"]>) =>
    store.save(newHostRecord({ hostname, personality: "worker", mgmtIp: `127.0.73.${last}`, bmc }));
  await host("worker-0", 10, {
    type: "dynamic",
    address: "127.0.0.1",
    port: rfPort,
    username: emulator.profile.username,
    secretRef: secret("rf.pw", emulator.profile.password),
  });
  await host("worker-1", 11, { type: "dynamic", address: "127.0.0.1", port: sim.port, username: sim.username, secretRef: secret("ipmi.pw", sim.password) });

  const [agentMgmt, agentPxeboot, hbsCmd, hbsEvent, api] = await freeUdpPorts(5);
  const cfgFile = join(dir, "agent.json");
  writeFileSync(
    cfgFile,
    JSON.stringify({
      root,
      node: { hostname: "controller-0", subfunctions: ["controller"] },
      networks: { mgmt: { address: "127.0.0.1", controller: "127.0.0.1" } },
      ports: { agentMgmt, agentPxeboot, hbsCmd, hbsEvent },
      api: { address: "127.0.0.1", port: api, tokenFile: secret("api.token", "learn-test-token") },
      timeouts: { hostAddDelay: 1 },
      logging: { level: "info" },
    }),
  );
  let agentLog = "";
  const start = () => {
    const p = execa(process.execPath, [main, "agent", "--config", cfgFile], { reject: false, env: { NODE_EXTRA_CA_CERTS: cert } });
    for (const out of [p.stdout, p.stderr])
      out?.on("data", (d: Buffer) => {
        agentLog = (agentLog + d.toString()).slice(-4000);
      });
    return p;
  };
  const apiUp = async () => {
    try {
      return (await fetch(`http://127.0.0.1:${api}/v1/hosts`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  };
  /** Wait for a condition; a timeout says what the agent logged. */
  const until = (what: string, pred: () => boolean | Promise<boolean>) =>
    waitFor(what, pred, 60_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}; agent log: ${agentLog}`);
    });
  // SIGTERM once it is up (the API serves): the agent flushes and exits 0.
  const stopAgent = async () => {
    await until("the agent's API", apiUp);
    agent?.kill("SIGTERM");
    const t0 = Date.now();
    const r = await agent!;
    t.is(r.exitCode, 0, `exit ${r.exitCode} signal ${r.signal} forced ${r.isForcefullyTerminated} after ${Date.now() - t0} ms: ${agentLog}`);
  };
  const learned = async () => Object.fromEntries((await store.load()).hosts.map((h) => [h.hostname, `${h.bmc?.learned}/${String(h.mtceInfo?.bmc_protocol)}`]));
  const rootQueries = () => emulator.requestLog.filter((r) => r.method === "GET" && (r.path === "/redfish/v1/" || r.path === "/redfish/v1")).length;
  const logins = () => emulator.requestLog.filter((r) => r.method === "POST" && r.path.endsWith("/Sessions")).length;

  // First agent: both BMCs learned on first use (the access probe), and written to the inventory.
  agent = start();
  await until("both protocols learned and kept in the inventory file", async () => {
    const l = await learned();
    return l["worker-0"] === "redfish/redfish" && l["worker-1"] === "ipmi/ipmi";
  });
  t.true(rootAttemptsAtSim >= 1, "ipmi_sim's protocol was learned by asking for a Redfish service root");
  // Learning asked for the service root once; every session login asks once more.
  t.is(rootQueries(), logins() + 1, "one learning root query besides the logins");
  await stopAgent();

  // Second agent on the same state dir: both BMCs in use (the emulator's power query; a power-on through the API
  // that ipmi_sim executes), with no learning root query at either.
  emulator.requestLog.splice(0);
  rootAttemptsAtSim = 0;
  const systemsQueries = () => emulator.requestLog.filter((r) => r.method === "GET" && r.path.startsWith("/redfish/v1/Systems/")).length;
  agent = start();
  await until("the second agent's power query at the emulator", () => systemsQueries() >= 1);
  await until("the second agent's API", apiUp);
  const powerOn = await fetch(`http://127.0.0.1:${api}/v1/hosts/worker-1`, {
    method: "PATCH",
    headers: { Authorization: "Bearer learn-test-token" },
    body: JSON.stringify({ action: "power-on" }),
  });
  t.true(powerOn.ok, await powerOn.text());
  await until("ipmi_sim powered on by the second agent", () => sim.chassisLog().includes("power 1"));
  t.is(rootQueries(), logins(), "no learning root query: only the login's");
  t.is(rootAttemptsAtSim, 0, "no Redfish learning at ipmi_sim");
  t.deepEqual(await learned(), { "worker-0": "redfish/redfish", "worker-1": "ipmi/ipmi" });
  await stopAgent();
});
