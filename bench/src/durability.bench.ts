import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileInventoryStore } from "@metal/core/inventory/file-store";
import { newHostRecord } from "@metal/core/inventory/host";
import type { Benchmark } from "./harness.js";

/**
 * Durable before acknowledged, priced: host adds acknowledged per second when each add is committed with fsync
 * (temp file fsync'd, renamed, directory fsync'd; concurrent commits written together) against the same writes
 * without any fsync, same run, same file store, same concurrency (16 clients, as API requests arrive).
 */
async function addsPerSecond(fsync: boolean, total: number, clients: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "metal-bench-dur-"));
  try {
    const store = new FileInventoryStore({ stateDir: dir, fsync });
    await store.load();
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < total) {
          const i = next++;
          await store.save(newHostRecord({ hostname: `worker-${i}`, personality: "worker", mgmtIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }));
        }
      }),
    );
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    await store.close();
    return (total / ms) * 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench: Benchmark = {
  name: "durability",
  async run() {
    const total = 2_000;
    const clients = 16;
    // Alternate and keep the best of each, so machine noise affects both sides alike.
    let synced = 0;
    let unsynced = 0;
    for (let round = 0; round < 3; round++) {
      synced = Math.max(synced, await addsPerSecond(true, total, clients));
      unsynced = Math.max(unsynced, await addsPerSecond(false, total, clients));
    }
    return [
      {
        name: "acknowledged host adds, fsync before ack",
        figure: synced,
        unit: "adds/s",
        baselineName: "same writes without fsync",
        baseline: unsynced,
        ratio: synced / unsynced,
        notes: `${total} adds, ${clients} concurrent writers, best of 3, file store on ${tmpdir()}`,
      },
    ];
  },
};
export default bench;
