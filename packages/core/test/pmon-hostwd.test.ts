/**
 * hostwd (issue 13; reference mtce-core.md §9): the device is petted every petPeriodMs; missed quorum reports or a
 * failed quorum take the action once; never while the host is locked; a clean stop writes the magic 'V'. In
 * virtual time with a file as the device, then a real `metal hostwd` process fed by a real pmond.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import type { NodeActions } from "../src/client/node-actions.js";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { defaultConfig } from "../src/config/index.js";
import { silentLogger } from "../src/logging/logger.js";
import { Hostwd } from "../src/pmon/hostwd.js";
import { encodeQuorumReport } from "../src/pmon/quorum.js";
import { eventually, METAL_MAIN } from "./helpers/client-process.js";
import { pmonRig, sleeperScript } from "./helpers/pmon-rig.js";

function fakeActions(calls: string[]): NodeActions {
  const note = (what: string) => async () => {
    calls.push(what);
  };
  return {
    reboot: note("reboot"),
    reset: note("reset"),
    wipedisk: note("wipedisk"),
    sysrq: async (key) => {
      calls.push(`sysrq-${key}`);
    },
    stopPmon: note("stopPmon"),
    sync: note("sync"),
    luksVaultFailed: async () => false,
    uptimeSeconds: async () => 100,
  };
}

async function rig(o: { kdump?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), "metal-hostwd-"));
  mkdirSync(join(root, "var/run"), { recursive: true });
  const device = join(root, "watchdog");
  const config = defaultConfig({
    root,
    pmon: { hostwdUpdatePeriod: 30, hostwd: { device, petPeriodMs: 1000, failureThreshold: 3, kdumpOnStall: o.kdump ?? true, rebootOnErr: true } },
  });
  const clock = new VirtualClock();
  const calls: string[] = [];
  const wd = new Hostwd({ config, clock, logger: silentLogger(), actions: fakeActions(calls) });
  await wd.start();
  return {
    root,
    device,
    clock,
    calls,
    wd,
    pets: () =>
      readFileSync(device, "utf8")
        .split("")
        .filter((c) => c === ".").length,
  };
}

const ok = encodeQuorumReport({ hostname: "worker-0", quorum: "ok", failed: [] });

test("pets every second; reports keep it quiet; 3 missed reports → crash dump once, then it stops petting; stop writes 'V'", async (t) => {
  const r = await rig();
  t.teardown(() => rmSync(r.root, { recursive: true, force: true }));
  await r.clock.advance(10_000);
  t.is(r.pets(), 11, "one pet at start and one per second");
  for (let i = 0; i < 4; i++) {
    r.wd.onReport(ok);
    await r.clock.advance(30_000);
  }
  t.deepEqual(r.calls, [], "reports arrived every period");
  await r.clock.advance(3 * 30_000);
  t.deepEqual(r.calls, ["sysrq-c"], "three periods without a report");
  const pets = r.pets();
  await r.clock.advance(5 * 30_000);
  t.deepEqual(r.calls, ["sysrq-c"], "the action is taken once");
  t.is(r.pets(), pets, "no more pets after the action: the kernel watchdog finishes the job");
  await r.wd.stop();
  t.true(readFileSync(r.device, "utf8").endsWith("V"), "magic close");
});

test("a failed quorum report reboots at once (reboot configured); bad reports are dropped", async (t) => {
  const r = await rig({ kdump: false });
  t.teardown(async () => {
    await r.wd.stop();
    rmSync(r.root, { recursive: true, force: true });
  });
  r.wd.onReport("{not json");
  r.wd.onReport(JSON.stringify({ service: "someone", quorum: "failed" }));
  t.is(r.wd.stats.badReports, 2);
  t.deepEqual(r.calls, []);
  r.wd.onReport(encodeQuorumReport({ hostname: "worker-0", quorum: "failed", failed: ["hbsClient"] }));
  r.wd.onReport(encodeQuorumReport({ hostname: "worker-0", quorum: "failed", failed: ["hbsClient"] }));
  await r.clock.advance(1);
  t.deepEqual(r.calls, ["reboot"]);
});

test("locked host: no action for missed reports or a failed quorum", async (t) => {
  const r = await rig();
  t.teardown(async () => {
    await r.wd.stop();
    rmSync(r.root, { recursive: true, force: true });
  });
  writeFileSync(join(r.root, "var/run/.node_locked"), "");
  r.wd.onReport(encodeQuorumReport({ hostname: "worker-0", quorum: "failed", failed: ["hbsClient"] }));
  await r.clock.advance(10 * 30_000);
  t.deepEqual(r.calls, []);
  t.true(r.pets() >= 300, "still petting");
});

test("a real hostwd process: pets the device file, takes pmond's reports, crash-dumps the lab host when the quorum fails", async (t) => {
  const r = await pmonRig(t, { config: { pmon: { hostwdUpdatePeriod: 1 }, messaging: { nodeActions: "lab" } } });
  const device = join(r.root, "watchdog");
  const cfgFile = join(r.root, "hostwd.json");
  writeFileSync(
    cfgFile,
    JSON.stringify({
      root: r.root,
      messaging: { nodeActions: "lab" },
      pmon: { hostwdUpdatePeriod: 1, hostwd: { device, petPeriodMs: 100, failureThreshold: 3 } },
      logging: { level: "warn" },
    }),
  );
  let stderr = "";
  // This test plays the lab that brings a lab-mode host back (METAL_LAB_SUPERVISOR).
  const hostwd: ChildProcess = spawn(process.execPath, [METAL_MAIN, "hostwd", "--config", cfgFile], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, METAL_LAB_SUPERVISOR: "pmon-hostwd.test" },
  });
  hostwd.stderr?.on("data", (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => hostwd.once("exit", (code) => resolve(code)));
  t.teardown(() => {
    hostwd.kill("SIGKILL");
  });
  // 120 s: this wait is the CLI process start-up (10+ s on a loaded 2-core machine).
  t.true(await eventually(() => existsSync(join(r.root, "var/run/hostwd.sock")), 120_000), `hostwd up; ${stderr}`);
  const s = sleeperScript(r.root, "quorate");
  execFileSync(join(r.root, s.script), ["start"]);
  r.writeConf("quorate", { script: s.script, pidfile: s.pidfile, restarts: 0, quorum: 1, startuptime: 0, severity: "major" });
  await r.pmond.start();
  t.true(await eventually(() => existsSync(device) && readFileSync(device, "utf8").length >= 5, 30_000), "pets seen on the device file");
  t.true(await eventually(() => r.pmond.status().processes[0]?.stage === "MONITOR", 15_000));
  const pid = r.pmond.status().processes[0]?.pid as number;
  r.pids.add(pid);
  // Reports flow for a while without any action.
  await new Promise((res) => setTimeout(res, 2500));
  t.is(hostwd.exitCode, null, `hostwd still running; ${stderr}`);
  process.kill(pid, "SIGKILL");
  const code = await Promise.race([exited, new Promise<string>((res) => setTimeout(() => res("no action"), 30_000))]);
  t.is(code, 75, `the lab host went down (LAB_REBOOT_EXIT_CODE); ${stderr}`);
  t.regex(readFileSync(join(r.root, "lab/last-reboot"), "utf8"), /crashdump/);
});

test("metal hostwd exits 0 on SIGTERM and writes the magic close", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "metal-hostwd-term-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const device = join(root, "watchdog");
  const cfgFile = join(root, "hostwd.json");
  writeFileSync(cfgFile, JSON.stringify({ root, pmon: { hostwd: { device, petPeriodMs: 100 } }, logging: { level: "warn" } }));
  const p = spawn(process.execPath, [METAL_MAIN, "hostwd", "--config", cfgFile], { stdio: "ignore" });
  t.teardown(() => {
    p.kill("SIGKILL");
  });
  // 120 s: this wait includes the CLI process start-up (10+ s on a loaded 2-core machine).
  t.true(await eventually(() => existsSync(device) && readFileSync(device, "utf8").length >= 2, 120_000), "hostwd started and pets");
  const exited = new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));
  p.kill("SIGTERM");
  t.is(await Promise.race([exited, new Promise<string>((res) => setTimeout(() => res("still running"), 10_000))]), 0);
  t.true(readFileSync(device, "utf8").endsWith("V"));
});
