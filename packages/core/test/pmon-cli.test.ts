/**
 * The pmond CLI (issue 13): `metal pmon install-conf --personality P` writes the personality's default pmon.d set,
 * each file one the parser accepts; `metal pmon status [--json]` asks a real running `metal pmon` over its status
 * socket and shows every process with mode, pid, state, restarts, severity and alarm; a killed process shows up
 * restarted with a new pid, and a restarts=0 process that dies shows its alarm. Errors are one line (exit 2 for a
 * usage error, 1 when pmond is not running).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import test from "ava";
import { execa } from "execa";
import { parseProcessConf } from "../src/pmon/conf.js";
import type { PmondStatus } from "../src/pmon/pmond.js";
import { METAL_MAIN } from "./helpers/client-process.js";
import { freeUdpPorts } from "./helpers/udp.js";

const metal = (...args: string[]) => execa(process.execPath, [METAL_MAIN, ...args], { reject: false, timeout: 120_000 });

function tempRoot(t: { teardown(fn: () => void): void }, prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

test("install-conf: each personality's default set, every file valid; --dir; a bad personality is one line and exit 2", async (t) => {
  const root = tempRoot(t, "metal-pmon-cli-");
  const cfg = join(root, "metal.json");
  writeFileSync(cfg, JSON.stringify({ root }));
  const want = {
    controller: ["hbsAgent", "hbsClient", "mtcClient"],
    worker: ["guestServer", "hbsClient", "mtcClient"],
    storage: ["hbsClient", "mtcClient"],
  };
  for (const [personality, names] of Object.entries(want)) {
    const dir = join(root, personality);
    const r = await metal("pmon", "install-conf", "--personality", personality, "--config", cfg, "--dir", dir);
    t.is(r.exitCode, 0, r.stderr);
    const listed = r.stdout.trim().split("\n");
    t.deepEqual(
      listed.map((f) => basename(f)).sort(),
      names.map((n) => `${n}.conf`),
    );
    t.deepEqual(
      readdirSync(dir).sort(),
      names.map((n) => `${n}.conf`),
    );
    for (const f of listed) {
      const c = parseProcessConf(readFileSync(f, "utf8"), f, "/");
      t.is(`${c.process}.conf`, basename(f));
      t.is(c.pidfile, `/var/run/${c.process}.pid`);
      t.is(c.service, c.process);
    }
    const conf = (n: string) => parseProcessConf(readFileSync(join(dir, `${n}.conf`), "utf8"), n, "/");
    // The node daemons are watched actively on the reference's ports; hbsClient is in the watchdog quorum.
    t.like(conf("mtcClient"), { mode: "active", port: 2201, quorum: false });
    t.like(conf("hbsClient"), { mode: "active", port: 2202, quorum: true });
  }
  // Without --dir: <root>/etc/pmon.d from the config.
  const r = await metal("pmon", "install-conf", "--personality", "worker", "--config", cfg);
  t.is(r.exitCode, 0, r.stderr);
  t.deepEqual(readdirSync(join(root, "etc/pmon.d")).sort(), ["guestServer.conf", "hbsClient.conf", "mtcClient.conf"]);

  const bad = await metal("pmon", "install-conf", "--personality", "toaster", "--config", cfg);
  t.is(bad.exitCode, 2, "a usage error");
  t.regex(bad.stderr, /--personality 'toaster': one of controller, worker, storage/);
  t.is(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  t.is(bad.stdout, "");
});

test("status: no pmond is one line and exit 1; with a real pmond, --json and the table show every process, a kill shows as a restart with a new pid, a restarts=0 death shows its alarm", async (t) => {
  const root = tempRoot(t, "metal-pmon-cli-");
  const [agentMgmt, pmonPulse, amonPort] = (await freeUdpPorts(3)) as [number, number, number];
  const cfg = join(root, "metal.json");
  writeFileSync(
    cfg,
    JSON.stringify({
      root,
      node: { hostname: "worker-7", subfunctions: ["worker"] },
      networks: { mgmt: { address: "127.0.0.1", controller: "127.0.0.1" } },
      ports: { agentMgmt, pmonPulse },
      pmon: { startDelay: 0, auditPeriodMs: 100, amonPort, recovery: "script" },
      logging: { level: "error" },
    }),
  );
  const confDir = join(root, "etc/pmon.d");
  mkdirSync(confDir, { recursive: true });
  mkdirSync(join(root, "var/run"), { recursive: true });
  writeFileSync(join(root, "var/run/goenabled"), "");
  const conf = (name: string, extra: string) =>
    writeFileSync(
      join(confDir, `${name}.conf`),
      `[process]\nprocess = ${name}\npidfile = /var/run/${name}.pid\ncommand = sleep 100000\ninterval = 0\ndebounce = 600\nstartuptime = 0\n${extra}`,
    );
  conf("sleeper", "severity = major\nrestarts = 3\n");
  conf("fragile", "severity = minor\nrestarts = 0\n");

  const none = await metal("pmon", "status", "--config", cfg);
  t.is(none.exitCode, 1);
  t.regex(none.stderr, /pmond is not running/);
  t.is(none.stderr.trim().split("\n").length, 1, none.stderr);

  let pmond: ChildProcess | undefined;
  let stderr = "";
  const status = async (): Promise<PmondStatus | undefined> => {
    const r = await metal("pmon", "status", "--json", "--config", cfg);
    if (r.exitCode !== 0) return undefined;
    return JSON.parse(r.stdout) as PmondStatus;
  };
  const pids = new Set<number>();
  t.teardown(() => {
    pmond?.kill("SIGKILL");
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  });
  pmond = spawn(process.execPath, [METAL_MAIN, "pmon", "--config", cfg], { stdio: ["ignore", "ignore", "pipe"] });
  pmond.stderr?.on("data", (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  // Bounded waits: a `metal` start takes seconds on a loaded machine.
  let s: PmondStatus | undefined;
  const running = async () => {
    s = await status();
    for (const p of s?.processes ?? []) if (p.pid) pids.add(p.pid);
    return s?.monitoring === true && s.processes.length === 2 && s.processes.every((p) => p.state === "running" && p.pid !== null);
  };
  t.true(await eventuallyAsync(running, 120_000), `both running; last status ${JSON.stringify(s)}; pmond stderr ${stderr}`);
  const st = s as PmondStatus;
  t.is(st.hostname, "worker-7");
  t.is(st.quorum, "ok");
  t.deepEqual(
    st.processes.map((p) => p.process),
    ["fragile", "sleeper"],
  );
  const sleeper = st.processes.find((p) => p.process === "sleeper");
  t.like(sleeper, { mode: "passive", state: "running", restarts: 0, severity: "major", alarm: null });
  for (const p of st.processes) for (const key of ["process", "mode", "pid", "state", "restarts", "severity", "alarm"]) t.true(key in p, `${p.process}.${key}`);

  // The table: one header with the columns, one row per process.
  const table = await metal("pmon", "status", "--config", cfg);
  t.is(table.exitCode, 0, table.stderr);
  t.regex(table.stdout, /pmond on worker-7: monitoring started, quorum ok/);
  for (const col of ["process", "mode", "pid", "state", "restarts", "severity", "alarm"]) t.regex(table.stdout, new RegExp(`\\b${col}\\b`));
  t.regex(table.stdout, new RegExp(`sleeper\\s*│\\s*passive\\s*│\\s*${sleeper?.pid}\\s*│\\s*running`));

  // Kill the sleeper: restarted under a new pid, one restart counted.
  const oldPid = sleeper?.pid as number;
  process.kill(oldPid, "SIGKILL");
  const restarted = async () => {
    s = await status();
    const p = s?.processes.find((x) => x.process === "sleeper");
    if (p?.pid) pids.add(p.pid);
    return p?.state === "running" && p.pid !== oldPid && p.restarts === 1;
  };
  t.true(await eventuallyAsync(restarted, 60_000), `sleeper restarted; last status ${JSON.stringify(s)}`);

  // Kill the restarts=0 process: failed, its minor alarm shown, not restarted.
  const fragilePid = st.processes.find((p) => p.process === "fragile")?.pid as number;
  process.kill(fragilePid, "SIGKILL");
  const alarmed = async () => {
    s = await status();
    const p = s?.processes.find((x) => x.process === "fragile");
    return p?.alarm === "minor" && p.state === "failed";
  };
  t.true(await eventuallyAsync(alarmed, 60_000), `fragile alarmed; last status ${JSON.stringify(s)}`);
  const fragile = s?.processes.find((x) => x.process === "fragile");
  t.is(fragile?.restarts, 0);
  t.truthy(fragile?.reason, "the reason is shown");
  const after = await metal("pmon", "status", "--config", cfg);
  t.regex(after.stdout, /fragile\s*│\s*passive\s*│[^\n]*│\s*failed\s*│\s*0\s*│\s*minor\s*│\s*minor/);
});

/** Poll an async predicate until true or `timeoutMs` (real time) passes. */
async function eventuallyAsync(pred: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
