import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { METAL_MAIN } from "./helpers/client-process.js";
import { freeMessagingPorts } from "./helpers/udp.js";

// Issue 11: `metal client` ignored its first SIGTERM (still running after 30 s).
test("metal client exits 0 soon after SIGTERM and logs its stop", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "metal-client-term-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "var/run"), { recursive: true });
  const { agentMgmt, agentPxeboot, clientMgmt, clientClstr, clientPxeboot } = await freeMessagingPorts();
  const net = { controller: "127.0.0.1", address: "127.0.0.1" };
  const cfg = join(root, "client.json");
  writeFileSync(
    cfg,
    JSON.stringify({
      root,
      node: { hostname: "worker-1", mac: "52:54:00:00:11:0c" },
      messaging: { nodeActions: "lab" },
      networks: { mgmt: net, clusterHost: net, pxeboot: net },
      ports: { agentMgmt, agentPxeboot, clientMgmt, clientClstr, clientPxeboot },
      logging: { level: "info" },
    }),
  );
  // This test plays the lab that would restart a lab-mode client.
  const env = { ...process.env, METAL_LAB_SUPERVISOR: "daemon-sigterm.test" };
  const p = spawn(process.execPath, [METAL_MAIN, "client", "--config", cfg], { stdio: ["ignore", "pipe", "pipe"], env });
  t.teardown(() => {
    p.kill("SIGKILL");
  });
  let out = "";
  const onData = (b: Buffer) => {
    out = (out + b.toString()).slice(-8000);
  };
  p.stdout?.on("data", onData);
  p.stderr?.on("data", onData);
  const exited = new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!out.includes("mtcClient starting") && Date.now() < deadline && p.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  t.true(out.includes("mtcClient starting"), `client up; ${out}`);
  const sent = Date.now();
  p.kill("SIGTERM");
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("still running"), 15_000))]);
  t.log(`metal client exited ${Date.now() - sent} ms after SIGTERM`);
  t.is(code, 0, out);
  t.is(out.split("\n").filter((l) => /mtcClient stopping \(SIGTERM\)/.test(l)).length, 1, out);
});
