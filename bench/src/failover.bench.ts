import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeSchema } from "@metal/core/config/ha-schema";
import { createEtcdClient } from "@metal/core/ha/etcd-client";
import { WarmCopy } from "@metal/core/ha/warm-copy";
import { EtcdInventoryStore } from "@metal/core/inventory/etcd-store";
import { FileInventoryStore } from "@metal/core/inventory/file-store";
import { newHostRecord } from "@metal/core/inventory/host";
import type { InventoryStore } from "@metal/core/inventory/store";
import { HaPair } from "@metal/core/lab/ha-pair";
import { silentLogger } from "@metal/core/logging/index";
import type { Benchmark, BenchResult } from "./harness.js";

/**
 * The controller pair (issue 12), against baselines of the same run: kill -9 failovers (the active's agent killed,
 * takeover = the standby's own record of its election minus the kill) against the lease TTL (target p99 <= TTL + 1 s);
 * host state writes/s on etcd against the file store; the standby's watch lag against a plain etcd round-trip.
 * METAL_BENCH_FAILOVERS sets the number of failovers (default 20).
 */
const TTL = 3;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};

async function failovers(n: number): Promise<number[]> {
  const pair = await HaPair.start({ workers: 5, leaseTtlS: TTL, logLevel: "warn" });
  const out: number[] = [];
  try {
    for (let round = 0; round < n; round++) {
      let a: number | undefined;
      await pair.waitFor(
        "one active agent",
        async () => {
          a = await pair.activeIndex();
          return a !== undefined;
        },
        120_000,
      );
      const b = 1 - (a as number);
      // The standby is up and follows the active (a revived agent first has to start).
      await pair.waitFor(
        "a warm standby",
        async () => {
          const v = await pair.agents[b]?.ha();
          return v?.role === "standby" && v.leader?.hostname === `controller-${a}`;
        },
        120_000,
      );
      const killedAt = Date.now();
      await pair.agents[a as number]?.kill();
      let electedAt: number | undefined;
      await pair.waitFor(
        "the standby leads",
        async () => {
          const v = await pair.agents[b]?.ha();
          electedAt = v?.acting ? v.history.filter((e) => e.kind === "elected").at(-1)?.at : undefined;
          return electedAt !== undefined;
        },
        60_000,
      );
      out.push((electedAt as number) - killedAt);
      process.stderr.write(`  failover ${round + 1}/${n}: ${(electedAt as number) - killedAt} ms\n`);
      pair.agents[a as number]?.revive();
    }
  } finally {
    await pair.stop();
  }
  return out;
}

/** Host saves per second, `clients` concurrent writers. */
async function writesPerSecond(store: InventoryStore, total: number, clients: number): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const i = next++;
        const r = newHostRecord({ hostname: `worker-${i % 200}`, personality: "worker", mgmtIp: `10.9.${(i >> 8) & 255}.${i & 255}` });
        await store.save(Object.assign(r, { task: `write ${i}` }));
      }
    }),
  );
  return (total / (Number(process.hrtime.bigint() - t0) / 1e6)) * 1000;
}

const bench: Benchmark = {
  name: "failover",
  async run() {
    const results: BenchResult[] = [];
    const n = Number(process.env.METAL_BENCH_FAILOVERS ?? 20);
    const takeovers = await failovers(n);
    const p50 = pct(takeovers, 50);
    const p99 = pct(takeovers, 99);
    results.push(
      {
        name: `kill -9 failover, takeover p50 (${n} failovers)`,
        figure: p50,
        unit: "ms",
        baselineName: "lease TTL",
        baseline: TTL * 1000,
        ratio: (TTL * 1000) / p50,
      },
      {
        name: `kill -9 failover, takeover p99 (${n} failovers)`,
        figure: p99,
        unit: "ms",
        baselineName: "lease TTL",
        baseline: TTL * 1000,
        ratio: (TTL * 1000) / p99,
        target: `p99 <= TTL + 1 s (${TTL * 1000 + 1000} ms)`,
        met: p99 <= TTL * 1000 + 1000,
        notes: `max ${Math.max(...takeovers)} ms`,
      },
    );

    // Writes and watch lag on a cluster of their own (the failovers' is gone).
    const { EtcdCluster } = await import("@metal/core/lab/etcd-cluster");
    const cluster = await EtcdCluster.start();
    const dir = mkdtempSync(join(tmpdir(), "metal-bench-failover-"));
    const etcd = createEtcdClient(storeSchema.parse({ kind: "etcd", endpoints: cluster.endpoints, prefix: "/bench" }));
    try {
      const total = 1000;
      const clients = 16;
      const onEtcd = await writesPerSecond(new EtcdInventoryStore(etcd, "/bench"), total, clients);
      const file = new FileInventoryStore({ stateDir: dir });
      await file.load();
      const onFile = await writesPerSecond(file, total, clients);
      await file.close();
      results.push({
        name: "host state writes (etcd store, 3 members)",
        figure: onEtcd,
        unit: "writes/s",
        baselineName: "file store (fsync)",
        baseline: onFile,
        ratio: onEtcd / onFile,
        notes: `${total} saves, ${clients} concurrent writers`,
      });

      // Watch lag: a save by one client until the standby's warm copy (another client) sees it.
      const watcherClient = createEtcdClient(storeSchema.parse({ kind: "etcd", endpoints: cluster.endpoints, prefix: "/bench" }));
      const warm = new WarmCopy(watcherClient, "/bench", silentLogger());
      const seen = new Map<string, number>();
      warm.onChange((_name, h) => {
        if (h?.task) seen.set(h.task, Date.now());
      });
      await warm.start();
      const store = new EtcdInventoryStore(etcd, "/bench");
      const lags: number[] = [];
      const rtts: number[] = [];
      for (let i = 0; i < 100; i++) {
        const t0 = Date.now();
        await etcd.put("/bench-rtt").value(String(i));
        await etcd.get("/bench-rtt").string();
        rtts.push(Date.now() - t0);
        const task = `lag ${i}`;
        const sent = Date.now();
        await store.save(Object.assign(newHostRecord({ hostname: "worker-0", personality: "worker", mgmtIp: "10.9.0.1" }), { task }));
        const until = Date.now() + 5000;
        while (!seen.has(task) && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
        lags.push((seen.get(task) ?? Date.now()) - sent);
      }
      await warm.stop();
      watcherClient.close();
      const lag50 = pct(lags, 50);
      const rtt50 = pct(rtts, 50);
      results.push({
        name: "standby watch lag p50 (save -> warm copy)",
        figure: lag50,
        unit: "ms",
        baselineName: "plain etcd put+get round-trip p50",
        baseline: rtt50,
        ratio: rtt50 / Math.max(lag50, 0.5),
        notes: `p99 ${pct(lags, 99)} ms vs ${pct(rtts, 99)} ms, 100 saves`,
      });
    } finally {
      etcd.close();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    return results;
  },
};
export default bench;
