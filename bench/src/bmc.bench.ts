import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { SystemClock } from "@metal/core/clock/index";
import { secretFromString } from "@metal/core/di/secret";
import { IpmiDriver } from "@metal/plugin-ipmi";
import { IpmiSim } from "@metal/plugin-ipmi/testing/ipmi-sim";
import { RedfishDriver, RedfishEmulator } from "@metal/plugin-redfish";
import type { Benchmark, BenchResult } from "./harness.js";

const run = promisify(execFile);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Run `tasks` with at most `limit` in flight. */
async function bounded<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

/**
 * 200 Redfish power reads through one driver (one session, keep-alive) against the emulator, vs the original's
 * way: one redfishtool process per read (`redfishtool -S ... -c <config> Systems get`, reference §6.2).
 */
async function redfish(): Promise<BenchResult> {
  const n = 200;
  const emulator = new RedfishEmulator();
  const { port } = await emulator.listen({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), "metal-bench-rf-"));
  const cfg = join(dir, "cfg.json");
  writeFileSync(cfg, JSON.stringify({ username: "root", user: "root", password: "calvin" }), { mode: 0o600 });
  try {
    const driver = new RedfishDriver(
      { host: "bench", address: "127.0.0.1", port, username: "root", password: secretFromString("calvin"), options: { scheme: "http" } },
      new SystemClock(),
    );
    await driver.power.status(); // warm: the first call logs in
    const ours = await timed(async () => {
      for (let i = 0; i < n; i++) await driver.power.status();
    });
    const logins = driver.client.stats.logins;
    await driver.close();
    const theirs = await timed(async () => {
      for (let i = 0; i < n; i++) {
        const { stdout } = await run("redfishtool", ["-r", `127.0.0.1:${port}`, "-S", "Never", "-T", "30", "-c", cfg, "Systems", "get"]);
        if (!stdout.includes("PowerState")) throw new Error("redfishtool gave no PowerState");
      }
    });
    const rate = (ms: number) => (n / ms) * 1000;
    return {
      name: `redfish power status x${n}, one session`,
      figure: rate(ours),
      unit: "reads/s",
      baselineName: "one redfishtool process per read",
      baseline: rate(theirs),
      ratio: theirs / ours,
      target: ">= 20x",
      met: theirs / ours >= 20,
      notes: `${logins} login for ${n + 1} reads; ${emulator.activeSessions()} sessions left`,
    };
  } finally {
    await emulator.close();
  }
}

/** 100 IPMI power-status reads across 10 ipmi_sim BMCs: bounded concurrency (one lane per BMC) vs one at a time. */
async function ipmi(): Promise<BenchResult> {
  const bmcs = 10;
  const perBmc = 10;
  const sims = await Promise.all(Array.from({ length: bmcs }, () => IpmiSim.start({ sensors: [] })));
  try {
    const drivers = sims.map(
      (s, i) =>
        new IpmiDriver(
          {
            host: `bench-${i}`,
            address: "127.0.0.1",
            port: s.port,
            username: s.username,
            password: secretFromString(s.password),
            options: { minIntervalMs: 0 },
          },
          new SystemClock(),
        ),
    );
    const tasks = () => drivers.flatMap((d) => Array.from({ length: perBmc }, () => () => d.power.status()));
    const serial = await timed(() => bounded(tasks(), 1));
    const concurrent = await timed(() => bounded(tasks(), bmcs));
    await Promise.all(drivers.map((d) => d.close()));
    const rate = (ms: number) => ((bmcs * perBmc) / ms) * 1000;
    return {
      name: `ipmi power status x${bmcs * perBmc} over ${bmcs} ipmi_sim, concurrency ${bmcs}`,
      figure: rate(concurrent),
      unit: "reads/s",
      baselineName: "serial",
      baseline: rate(serial),
      ratio: serial / concurrent,
      notes: "each BMC still sees one command at a time (per-BMC lane); 2 shared cores bound the gain",
    };
  } finally {
    await Promise.all(sims.map((s) => s.stop()));
  }
}

const bench: Benchmark = {
  name: "bmc",
  async run() {
    return [await redfish(), await ipmi()];
  },
};
export default bench;
