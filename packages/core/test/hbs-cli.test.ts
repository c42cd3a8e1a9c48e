import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const metal = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8", timeout: 60_000 });

async function freePort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "0.0.0.0", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test("metal hbs cluster with no agent listening exits 1 with a one-line reason; bad configs exit 2", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-hbs-cli-"));
  writeFileSync(join(dir, "cfg.json"), JSON.stringify({ ports: { smServer: await freePort(), smClient: await freePort() } }));
  const r = metal("hbs", "cluster", "--timeout", "0.3", "--config", join(dir, "cfg.json"));
  t.is(r.status, 1);
  t.regex(r.stderr.trim(), /^metal: no cluster vault from the hbsAgent on 127\.0\.0\.1:\d+ within 300 ms$/);
  writeFileSync(join(dir, "bad.yaml"), "heartbeat:\n  periodMs: 50\n");
  for (const cmd of ["hbs-agent", "hbs-client"]) {
    const b = metal(cmd, "--config", join(dir, "bad.yaml"));
    t.is(b.status, 2, cmd);
    t.regex(b.stderr, /heartbeat\.periodMs: heartbeat period must be 100\.\.1000 ms/);
  }
  for (const cmd of [["hbs-agent"], ["hbs-client"], ["hbs", "cluster"]]) t.is(metal(...cmd, "--help").status, 0, cmd.join(" "));
});

test("metal hbs-agent runs until SIGTERM and metal hbs cluster prints its view", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-hbs-cli-"));
  const cfg = join(dir, "agent.json");
  const ports = {
    hbsAgentMgmt: await freePort(),
    hbsCmd: await freePort(),
    hbsEvent: await freePort(),
    smServer: await freePort(),
    smClient: await freePort(),
    mtcalarm: await freePort(),
  };
  writeFileSync(
    cfg,
    JSON.stringify({
      root: dir,
      node: { hostname: "controller-1" },
      networks: { mgmt: { address: "127.0.68.1", controller: "127.0.68.100" } },
      ports,
      heartbeat: { mode: "unicast", periodMs: 200 },
      logging: { level: "warn" },
    }),
  );
  const agent: ChildProcess = spawn(process.execPath, [main, "hbs-agent", "--config", cfg], { stdio: ["ignore", "ignore", "pipe"] });
  t.teardown(() => {
    if (agent.exitCode === null) agent.kill("SIGKILL");
  });
  let text = "";
  for (let i = 0; i < 100; i++) {
    const r = metal("hbs", "cluster", "--timeout", "0.5", "--config", cfg);
    if (r.status === 0) {
      text = r.stdout;
      break;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  t.regex(text, /^cluster vault v1\.0 period 200 ms, storage-0 not enabled\n\(no history yet\)\n$/);
  const json = metal("hbs", "cluster", "--json", "--config", cfg);
  t.is(json.status, 0, json.stderr);
  const v = JSON.parse(json.stdout) as { magic: number; periodMs: number; histories: unknown[]; rows: unknown[] };
  t.is(v.magic, 0x5aa5);
  t.is(v.periodMs, 200);
  t.deepEqual(v.rows, []);
  const exited = new Promise<number | null>((r) => agent.once("exit", (code) => r(code)));
  agent.kill("SIGTERM");
  t.is(await exited, 0);
});
