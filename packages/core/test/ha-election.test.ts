import test from "ava";
import { SystemClock } from "../src/clock/system-clock.js";
import { haSchema, storeSchema } from "../src/config/ha-schema.js";
import { createEtcdClient } from "../src/ha/etcd-client.js";
import { Leadership } from "../src/ha/leadership.js";
import { EtcdInventoryStore } from "../src/inventory/etcd-store.js";
import { newHostRecord } from "../src/inventory/host.js";
import { EtcdCluster } from "../src/lab/etcd-cluster.js";
import { createLogger } from "../src/logging/logger.js";

const log = createLogger({ level: "silent", name: "t" });

async function waitFor(what: string, pred: () => boolean, limitMs = 20_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test.serial(
  "election on a real 3-member etcd: one leader; its guarded writes commit; a deposed leader's writes fail; the standby takes over within the TTL",
  async (t) => {
    t.timeout(60_000);
    const cluster = await EtcdCluster.start();
    t.teardown(() => cluster.stop());
    const store = storeSchema.parse({ kind: "etcd", endpoints: cluster.endpoints, prefix: "/t1" });
    const ha = haSchema.parse({ leaseTtlS: 2 });
    const clock = new SystemClock();
    const mk = (hostname: string) => {
      const etcd = createEtcdClient(store);
      const l = new Leadership({ etcd, prefix: "/t1", hostname, ha, callTimeoutMs: store.callTimeoutMs, clock, log });
      return { etcd, l, store: new EtcdInventoryStore(etcd, "/t1", () => l.guard) };
    };
    const a = mk("controller-0");
    const b = mk("controller-1");
    t.teardown(() => {
      a.etcd.close();
      b.etcd.close();
    });
    a.l.start();
    await waitFor("controller-0 leads", () => a.l.mayAct());
    b.l.start();
    await waitFor("controller-1 sees the leader", () => b.l.leader?.hostname === "controller-0");
    t.false(b.l.mayAct());
    const err = await t.throwsAsync(b.store.save(newHostRecord({ hostname: "worker-0", personality: "worker" })));
    t.is((err as { code?: string }).code, "NOT_LEADER");
    await a.store.save(newHostRecord({ hostname: "worker-0", personality: "worker" }));
    t.deepEqual(
      (await b.store.load()).hosts.map((h) => h.hostname),
      ["worker-0"],
    );
    const epochA = a.l.guard?.epoch ?? 0;
    // "Crash" controller-0: its machine stops (no keepalive, no revoke), its guard object survives in memory.
    const staleGuard = a.l.guard;
    (a.l as unknown as { stopped: boolean }).stopped = true;
    const crashedAt = Date.now();
    await waitFor("controller-1 leads", () => b.l.mayAct(), 10_000);
    const takeoverMs = Date.now() - crashedAt;
    t.true(takeoverMs <= ha.leaseTtlS * 1000 + 2000, `takeover ${takeoverMs} ms`);
    t.true((b.l.guard?.epoch ?? 0) > epochA, "epoch grows");
    // The old leader's writes, still carrying its guard, fail in etcd.
    const stale = new EtcdInventoryStore(a.etcd, "/t1", () => staleGuard);
    const e2 = await t.throwsAsync(stale.save(newHostRecord({ hostname: "worker-1", personality: "worker" })));
    t.is((e2 as { code?: string }).code, "DEPOSED");
    await b.l.stop();
    await a.l.stop();
  },
);
