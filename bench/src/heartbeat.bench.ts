/**
 * Heartbeat at scale: one real `metal hbs-agent` process (unicast fan-out, 100 ms, two networks) against N
 * simulated hosts living in this process, one UDP socket each (127.1.x.y; the same address serves both
 * networks, told apart by the agent's source address). For 500, 2,000 and 5,000 hosts it reports pulses/s,
 * false misses (events for hosts that never stopped answering), agent CPU per 1,000 hosts and the time from
 * killing a host to its loss event — each next to a raw UDP echo requester measured the same way in the same run.
 *
 * Duration per size: `--hb-seconds N` or METAL_BENCH_HB_SECONDS (default 5; the figure is 60).
 * Sizes: `--hb-hosts 500,2000` or METAL_BENCH_HB_HOSTS.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HeartbeatEvent } from "@metal/core/agent/ports";
import { SystemClock } from "@metal/core/clock/index";
import { UdpHeartbeatControl } from "@metal/core/heartbeat/heartbeat-control";
import { queryCluster } from "@metal/core/heartbeat/sm-query";
import { silentLogger } from "@metal/core/logging/index";
import type { Benchmark, BenchResult } from "./harness.js";
import { simHostIp } from "./heartbeat-sim-hosts.js";

const main = fileURLToPath(new URL("../../packages/core/dist/src/cli/main.js", import.meta.url));
const requester = fileURLToPath(new URL("./udp-echo-requester.js", import.meta.url));
const simHostsScript = fileURLToPath(new URL("./heartbeat-sim-hosts.js", import.meta.url));
const PERIOD_MS = 100;
const FAILURE = 10;
const KILLED = 5;
const AGENT_MGMT = "127.0.70.1";
const AGENT_CLSTR = "127.0.71.1";
const CONTROL = "127.0.70.100";

function option(flag: string, env: string, fallback: string): string {
  const i = process.argv.indexOf(flag);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? process.env[env] ?? fallback;
}

const hostIp = simHostIp;

async function freePort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "0.0.0.0", () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** utime + stime of a process, in seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SimHosts {
  child: ChildProcess;
  replies(): Promise<number>;
  kill(hosts: number[]): Promise<number>;
  close(): void;
}

/** Start the simulated hosts in their own process and wait until every socket is bound. */
async function simHosts(n: number, port: number, mode: "pulse" | "echo", agentPorts: { mgmt: number; clstr: number }): Promise<SimHosts> {
  const child = fork(
    simHostsScript,
    ["--sim-hosts", JSON.stringify({ n, port, mode, agentClstrAddress: AGENT_CLSTR, agentMgmtPort: agentPorts.mgmt, agentClstrPort: agentPorts.clstr })],
    {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    },
  );
  const ask = <T>(q: object, key: string) =>
    new Promise<T>((resolve, reject) => {
      const onMsg = (m: Record<string, unknown>) => {
        if (key in m) {
          child.off("message", onMsg);
          resolve(m[key] as T);
        }
      };
      child.on("message", onMsg);
      child.once("exit", (code) => reject(new Error(`simulated hosts exited (${code})`)));
      if (Object.keys(q).length) child.send(q);
    });
  await ask<boolean>({}, "ready");
  return {
    child,
    replies: () => ask<number>({ q: "stats" }, "replies"),
    kill: (hosts) => ask<number>({ q: "kill", hosts }, "killedAt"),
    close: () => child.kill("SIGTERM"),
  };
}

interface Measured {
  /** Pulses the agent counted as missed during the window (from its own cluster history). */
  missedPulses?: number;
  /** Whether the warm-up ever saw every host answering in one period (false on an overloaded machine). */
  allAnswering?: boolean;
  pulsesPerS: number;
  cpuPerKHosts: number;
  falseMisses: number;
  lossLatencyMs: number;
  lossCount: number;
}

async function measureAgent(n: number, seconds: number, dir: string): Promise<Measured> {
  const ports = {
    hbsAgentMgmt: await freePort(),
    hbsAgentClstr: await freePort(),
    hbsClientMgmt: await freePort(),
    hbsCmd: await freePort(),
    hbsEvent: await freePort(),
    smServer: await freePort(),
    smClient: await freePort(),
    mtcalarm: await freePort(),
  };
  const cfgFile = join(dir, `agent-${n}.json`);
  writeFileSync(
    cfgFile,
    JSON.stringify({
      root: join(dir, `root-${n}`),
      node: { hostname: "controller-0", subfunctions: ["controller"] },
      networks: { mgmt: { address: AGENT_MGMT, controller: CONTROL }, clusterHost: { address: AGENT_CLSTR } },
      ports: { ...ports, hbsClientClstr: ports.hbsClientMgmt },
      heartbeat: { mode: "unicast", periodMs: PERIOD_MS },
      logging: { level: "warn" },
      plugins: { discover: false },
    }),
  );
  const sims = await simHosts(n, ports.hbsClientMgmt, "pulse", { mgmt: ports.hbsAgentMgmt, clstr: ports.hbsAgentClstr });
  const clock = new SystemClock();
  const control = new UdpHeartbeatControl({
    agents: [{ hostname: "controller-0", address: AGENT_MGMT }],
    cmdPort: ports.hbsCmd,
    eventAddress: CONTROL,
    eventPort: ports.hbsEvent,
    hostname: "controller-0",
    clock,
    logger: silentLogger(),
  });
  const events: Array<HeartbeatEvent & { at: number }> = [];
  control.onEvent((e) => events.push({ ...e, at: Date.now() }));
  await control.start();
  const agent: ChildProcess = spawn(process.execPath, [main, "hbs-agent", "--config", cfgFile], { stdio: ["ignore", "ignore", "inherit"] });
  try {
    const readyBy = Date.now() + 30_000;
    while (!events.some((e) => e.kind === "ready")) {
      if (Date.now() > readyBy) throw new Error("the hbs-agent never sent its ready event");
      await sleep(50);
    }
    control.activeController("controller-0");
    // Push the inventory, paced; commands are UDP, so push again (idempotent) until the agent has them all.
    const push = async () => {
      for (let i = 0; i < n; i++) {
        control.addHost({ hostname: `host-${i}`, mgmtIp: hostIp(i), clusterHostIp: hostIp(i), nodeType: 2 });
        if (i % 100 === 99) await sleep(5);
      }
      for (let i = 0; i < n; i++) {
        control.startHost(`host-${i}`);
        if (i % 100 === 99) await sleep(5);
      }
    };
    await push();
    // Warm up until the agent's own view says every host is enabled and answering.
    const deadline = Date.now() + 60_000;
    // Every host enabled (the commands arrived) and, within 15 s more, every host answering; a machine too
    // loaded to get there is measured anyway and says so.
    let allAnswering = false;
    let answeringBy = Number.POSITIVE_INFINITY;
    for (let round = 1; ; round++) {
      if (round % 10 === 0 && answeringBy === Number.POSITIVE_INFINITY) await push();
      const v = await queryCluster({ serverPort: ports.smServer, clientPort: ports.smClient, timeoutMs: 3000 }).catch(() => undefined);
      const latest = v?.histories.map((h) => h.entry[(h.oldestEntryIndex + 19) % 20]);
      if (latest?.length === 2 && latest.every((e) => e?.hostsEnabled === n)) {
        if (answeringBy === Number.POSITIVE_INFINITY) answeringBy = Date.now() + 15_000;
        if (latest.every((e) => e?.hostsResponding === n)) {
          allAnswering = true;
          break;
        }
        if (Date.now() > answeringBy) break;
      }
      if (Date.now() > deadline)
        throw new Error(`warm-up: the agent never had all ${n} hosts enabled (latest ${JSON.stringify(latest)}, agent exit ${agent.exitCode})`);
      await sleep(300);
    }
    await sleep(1000);
    const e0 = events.length;
    const r0 = await sims.replies();
    const c0 = cpuSeconds(agent.pid!);
    const t0 = Date.now();
    // Missed pulses as the agent saw them: every second, the 10 newest periods of its own histories.
    let missedPulses = 0;
    for (let s = 0; s < seconds; s++) {
      await sleep(1000);
      const v = await queryCluster({ serverPort: ports.smServer, clientPort: ports.smClient, timeoutMs: 900 }).catch(() => undefined);
      for (const h of v?.histories ?? []) {
        for (let k = 1; k <= 10; k++) {
          const e = h.entry[(h.oldestEntryIndex + 20 - k) % 20];
          if (e) missedPulses += e.hostsEnabled - e.hostsResponding;
        }
      }
    }
    const elapsed = (Date.now() - t0) / 1000;
    const cpu = cpuSeconds(agent.pid!) - c0;
    const replies = (await sims.replies()) - r0;
    const falseMisses = events.slice(e0).filter((e) => e.kind !== "ready").length;

    // Kill a few hosts at once and time their loss events.
    const killedAt = await sims.kill(Array.from({ length: KILLED }, (_, k) => k * Math.floor(n / KILLED)));
    const killedNames = new Set(Array.from({ length: KILLED }, (_, k) => `host-${k * Math.floor(n / KILLED)}`));
    const lossDeadline = Date.now() + 10_000;
    const losses = () => events.filter((e) => e.at >= killedAt && e.kind === "loss" && e.network === "mgmt" && killedNames.has(e.hostname));
    while (losses().length < KILLED && Date.now() < lossDeadline) await sleep(20);
    const lat = losses().map((e) => e.at - killedAt);
    return {
      pulsesPerS: replies / elapsed,
      cpuPerKHosts: ((cpu / elapsed) * 100) / (n / 1000),
      falseMisses,
      lossLatencyMs: lat.length ? Math.max(...lat) : Number.POSITIVE_INFINITY,
      lossCount: lat.length,
      allAnswering,
      missedPulses,
    };
  } finally {
    agent.kill("SIGTERM");
    await control.stop();
    sims.close();
    await sleep(300);
    if (agent.exitCode === null) agent.kill("SIGKILL");
  }
}

async function measureEcho(n: number, seconds: number): Promise<Measured> {
  const port = await freePort();
  const sims = await simHosts(n, port, "echo", { mgmt: 0, clstr: 0 });
  const addresses = Array.from({ length: n }, (_, i) => hostIp(i));
  const child = fork(
    requester,
    [
      "--echo-requester",
      JSON.stringify({
        addresses,
        port,
        bindMgmt: AGENT_MGMT,
        bindClstr: AGENT_CLSTR,
        localPorts: [await freePort(), await freePort()],
        periodMs: PERIOD_MS,
        pulseBytes: 251,
        failure: FAILURE,
      }),
    ],
    {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    },
  );
  const stats = () =>
    new Promise<{ replies: number; sent: number; dead: Record<string, number> }>((resolve) => {
      child.once("message", (m) => resolve(m as { replies: number; sent: number; dead: Record<string, number> }));
      child.send({ q: "stats" });
    });
  try {
    await sleep(2000);
    const s0 = await stats();
    const c0 = cpuSeconds(child.pid!);
    const t0 = Date.now();
    await sleep(seconds * 1000);
    const elapsed = (Date.now() - t0) / 1000;
    const cpu = cpuSeconds(child.pid!) - c0;
    const s1 = await stats();
    const killed = Array.from({ length: KILLED }, (_, k) => k * Math.floor(n / KILLED));
    const killedAt = await sims.kill(killed);
    await sleep(FAILURE * PERIOD_MS + 1500);
    const s2 = await stats();
    const lat = killed.map((k) => s2.dead[hostIp(k)]).filter((x): x is number => x !== undefined && x >= killedAt);
    return {
      pulsesPerS: (s1.replies - s0.replies) / elapsed,
      cpuPerKHosts: ((cpu / elapsed) * 100) / (n / 1000),
      falseMisses: s1.sent - s0.sent - (s1.replies - s0.replies),
      lossLatencyMs: lat.length ? Math.max(...lat.map((x) => x - killedAt)) : Number.POSITIVE_INFINITY,
      lossCount: lat.length,
    };
  } finally {
    child.kill("SIGTERM");
    sims.close();
  }
}

const bench: Benchmark = {
  name: "heartbeat",
  async run() {
    const seconds = Number(option("--hb-seconds", "METAL_BENCH_HB_SECONDS", "5"));
    const sizes = option("--hb-hosts", "METAL_BENCH_HB_HOSTS", "500,2000,5000")
      .split(",")
      .map(Number)
      .filter((x) => Number.isInteger(x) && x > 0 && x <= 60_000);
    const dir = mkdtempSync(join(tmpdir(), "metal-hb-bench-"));
    const out: BenchResult[] = [];
    try {
      for (const n of sizes) {
        const echo = await measureEcho(n, seconds);
        const hb = await measureAgent(n, seconds, dir);
        const expected = 2 * n * (1000 / PERIOD_MS);
        out.push(
          {
            name: `heartbeat pulses/s, ${n} hosts x 2 networks (${seconds} s)`,
            figure: hb.pulsesPerS,
            unit: "pulses/s",
            baselineName: "raw UDP echo",
            baseline: echo.pulsesPerS,
            ratio: hb.pulsesPerS / echo.pulsesPerS,
            target: `${expected} pulses/s (every host, every period)`,
            met: hb.pulsesPerS >= expected * 0.97,
            notes: `load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores${hb.allAnswering ? "" : "; the warm-up never saw every host answer in one period"}`,
          },
          {
            name: `heartbeat false misses, ${n} hosts (miss events; the agent counted ${hb.missedPulses} missed pulses)`,
            figure: hb.falseMisses,
            unit: "events",
            baselineName: "raw UDP echo lost replies",
            baseline: echo.falseMisses,
            ratio: hb.falseMisses === 0 ? 1 : echo.falseMisses / hb.falseMisses,
            target: "0",
            met: hb.falseMisses === 0 && hb.missedPulses === 0,
          },
          {
            name: `hbsAgent CPU per 1,000 hosts, ${n} hosts`,
            figure: hb.cpuPerKHosts,
            unit: "% of a core",
            baselineName: "raw UDP echo requester",
            baseline: echo.cpuPerKHosts,
            ratio: echo.cpuPerKHosts / hb.cpuPerKHosts,
          },
          {
            name: `kill -> loss event, ${n} hosts (worst of ${KILLED}, ${hb.lossCount} seen)`,
            figure: hb.lossLatencyMs,
            unit: "ms",
            baselineName: "raw echo: 10 missed periods",
            baseline: echo.lossLatencyMs,
            ratio: echo.lossLatencyMs / hb.lossLatencyMs,
            target: "<= 1100 ms",
            met: hb.lossLatencyMs <= 1100 && hb.lossCount === KILLED,
          },
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return out;
  },
};
export default bench;
