import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SystemClock } from "@metal/core/clock/system-clock";
import { VirtualClock } from "@metal/core/clock/virtual-clock";
import { defaultConfig } from "@metal/core/config/index";
import { silentLogger } from "@metal/core/logging/logger";
import { formatProcessConf, MAX_PROCESSES } from "@metal/core/pmon/conf";
import { Pmond } from "@metal/core/pmon/pmond";
import { freeUdpPorts } from "@metal/core/transport/free-ports";
import type { Benchmark, BenchResult } from "./harness.js";

/**
 * pmond at its limit (MAX_PROCESSES = 100 monitored processes, reference §10):
 *  1. CPU per audit (every auditPeriodMs/10) of one pmond watching 100 live `sleep` processes by pidfile, against a
 *     bare `kill(pid, 0)` loop over the same pids: what the handler machinery costs on top of the liveness check.
 *  2. kill → restart latency (p50/p99) of a process pmond launched itself, against a bare `on("exit") → spawn`.
 */
const AUDITS = 2000;
const KILLS = 40;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

function cpuMs(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

async function auditCost(): Promise<BenchResult> {
  const root = mkdtempSync(join(tmpdir(), "metal-bench-pmon-"));
  const kids: ChildProcess[] = [];
  try {
    mkdirSync(join(root, "etc/pmon.d"), { recursive: true });
    mkdirSync(join(root, "var/run"), { recursive: true });
    writeFileSync(join(root, "var/run/goenabled"), "");
    const pids: number[] = [];
    for (let i = 0; i < MAX_PROCESSES; i++) {
      const k = spawn("sleep", ["600"], { stdio: "ignore" });
      kids.push(k);
      pids.push(k.pid as number);
      writeFileSync(join(root, `var/run/p${i}.pid`), `${k.pid}\n`);
      writeFileSync(join(root, `etc/pmon.d/p${i}.conf`), formatProcessConf({ process: `p${i}`, pidfile: `/var/run/p${i}.pid`, startuptime: 0 }));
    }
    const [amonPort, pulse, agent] = (await freeUdpPorts(3)) as [number, number, number];
    const clock = new VirtualClock();
    const config = defaultConfig({
      root,
      ports: { pmonPulse: pulse, agentMgmt: agent },
      pmon: { startDelay: 0, auditPeriodMs: 500, amonPort },
    });
    const pmond = new Pmond({ config, clock, logger: silentLogger() });
    await pmond.start();
    for (let i = 0; i < 50 && !pmond.status().processes.every((p) => p.stage === "MONITOR"); i++) await clock.advance(50);
    const monitored = pmond.status().processes.filter((p) => p.stage === "MONITOR").length;
    if (monitored !== MAX_PROCESSES) throw new Error(`only ${monitored} processes reached MONITOR`);
    // Virtual time: each 50 ms step is exactly one audit (plus a pulse every 10th); the CPU is pmond's alone.
    const step = config.pmon.auditPeriodMs / 10;
    const t0 = process.cpuUsage();
    for (let i = 0; i < AUDITS; i++) await clock.advance(step);
    const d = process.cpuUsage(t0);
    const pmondMs = (d.user + d.system) / 1000 / AUDITS;
    const bareMs =
      cpuMs(() => {
        for (let i = 0; i < AUDITS; i++)
          for (const pid of pids) {
            try {
              process.kill(pid, 0);
            } catch {
              // gone
            }
          }
      }) / AUDITS;
    await pmond.stop();
    return {
      name: `pmond audit of ${MAX_PROCESSES} processes (CPU per audit)`,
      figure: pmondMs * 1000,
      unit: "us",
      baselineName: "bare kill(pid, 0) loop",
      baseline: bareMs * 1000,
      ratio: bareMs / pmondMs,
      notes: `${((pmondMs / step) * 100).toFixed(2)}% of one core at one audit per ${step} ms`,
    };
  } finally {
    for (const k of kids) k.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
  }
}

async function restartLatency(): Promise<BenchResult> {
  const root = mkdtempSync(join(tmpdir(), "metal-bench-pmon-"));
  let pmond: Pmond | undefined;
  try {
    mkdirSync(join(root, "etc/pmon.d"), { recursive: true });
    mkdirSync(join(root, "var/run"), { recursive: true });
    writeFileSync(join(root, "var/run/goenabled"), "");
    writeFileSync(
      join(root, "etc/pmon.d/victim.conf"),
      formatProcessConf({ process: "victim", command: "sleep 600", pidfile: "/var/run/victim.pid", restarts: 1000, interval: 0, debounce: 0, startuptime: 0 }),
    );
    const [amonPort, pulse, agent] = (await freeUdpPorts(3)) as [number, number, number];
    const config = defaultConfig({ root, ports: { pmonPulse: pulse, agentMgmt: agent }, pmon: { startDelay: 0, auditPeriodMs: 100, amonPort } });
    pmond = new Pmond({ config, clock: new SystemClock(), logger: silentLogger() });
    await pmond.start();
    const proc = () => pmond?.process("victim");
    const until = async (pred: () => boolean) => {
      const end = Date.now() + 20_000;
      while (!pred()) {
        if (Date.now() > end) throw new Error("timed out");
        await new Promise((r) => setImmediate(r));
      }
    };
    await until(() => proc()?.run?.stage === "MONITOR");
    const pmondLat: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const p = proc();
      const old = p?.child;
      const t0 = performance.now();
      old?.kill("SIGKILL");
      await until(() => proc()?.child !== old && proc()?.child?.pid !== undefined);
      pmondLat.push(performance.now() - t0);
      await until(() => proc()?.run?.stage === "MONITOR");
    }
    // Baseline: the least any supervisor can do — respawn on the exit event.
    const bareLat: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const k = spawn("sleep", ["600"], { stdio: "ignore" });
      await new Promise((r) => k.once("spawn", r));
      const t0 = performance.now();
      const next = await new Promise<ChildProcess>((resolve) => {
        k.once("exit", () => resolve(spawn("sleep", ["600"], { stdio: "ignore" })));
        k.kill("SIGKILL");
      });
      bareLat.push(performance.now() - t0);
      next.kill("SIGKILL");
    }
    const p50 = percentile(pmondLat, 50);
    const p99 = percentile(pmondLat, 99);
    const b50 = percentile(bareLat, 50);
    return {
      name: `kill → restart latency, p50 (p99 ${p99.toFixed(1)} ms)`,
      figure: p50,
      unit: "ms",
      baselineName: "bare exit→spawn p50",
      baseline: b50,
      ratio: b50 / p50,
      notes: `audit every ${config.pmon.auditPeriodMs / 10} ms; bare p99 ${percentile(bareLat, 99).toFixed(1)} ms`,
    };
  } finally {
    await pmond?.stop({ killChildren: true });
    rmSync(root, { recursive: true, force: true });
  }
}

const bench: Benchmark = {
  name: "pmon",
  async run() {
    return [await auditCost(), await restartLatency()];
  },
};
export default bench;
