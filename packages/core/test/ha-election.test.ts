import test from "ava";
import { SystemClock } from "../src/clock/system-clock.js";
import { haSchema, storeSchema } from "../src/config/ha-schema.js";
import { createEtcdClient } from "../src/ha/etcd-client.js";
import { Leadership } from "../src/ha/leadership.js";
import { EtcdInventoryStore } from "../src/inventory/etcd-store.js";
import { newHostRecord } from "../src/inventory/host.js";
import type { WriteGuard } from "../src/inventory/store.js";
import { EtcdCluster } from "../src/lab/etcd-cluster.js";
import { createLogger } from "../src/logging/logger.js";

const log = createLogger({ level: "silent", name: "t" });

/** The guard HaNode installs: the leader's own clock, and its key's create revision fenced inside the Txn. */
function leaderGuard(l: Leadership): WriteGuard {
  return {
    name: "leader",
    check: () => {
      if (!l.mayAct()) throw new Error("not leading");
    },
    ...(l.guard ? { fence: { key: l.guard.key, createRevision: l.guard.epoch } } : {}),
  };
}

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
    const cfg = storeSchema.parse({ kind: "etcd", endpoints: cluster.endpoints, prefix: "/t1" });
    const ha = haSchema.parse({ leaseTtlS: 2 });
    const clock = new SystemClock();
    const mk = (hostname: string) => {
      const etcd = createEtcdClient(cfg);
      const l = new Leadership({ etcd, prefix: "/t1", hostname, ha, callTimeoutMs: cfg.callTimeoutMs, clock, log });
      const store = new EtcdInventoryStore(etcd, "/t1");
      return { etcd, l, store, guard: () => leaderGuard(l) };
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
    a.store.setGuard(a.guard());
    b.store.setGuard(b.guard());
    const err = await t.throwsAsync(b.store.save(newHostRecord({ hostname: "worker-0", personality: "worker" })));
    t.is((err as { code?: string }).code, "STORE_FENCED");
    await a.store.save(newHostRecord({ hostname: "worker-0", personality: "worker" }));
    t.deepEqual(
      (await b.store.load()).hosts.map((h) => h.hostname),
      ["worker-0"],
    );
    const epochA = a.l.guard?.epoch ?? 0;
    // "Crash" controller-0: its machine stops (no keepalive, no revoke), its guard object survives in memory.
    const staleFence = a.l.guard as { key: string; epoch: number };
    (a.l as unknown as { stopped: boolean }).stopped = true;
    const crashedAt = Date.now();
    await waitFor("controller-1 leads", () => b.l.mayAct(), 10_000);
    const takeoverMs = Date.now() - crashedAt;
    t.true(takeoverMs <= ha.leaseTtlS * 1000 + 2000, `takeover ${takeoverMs} ms`);
    t.true((b.l.guard?.epoch ?? 0) > epochA, "epoch grows");
    // The old leader's writes, fenced on its (gone) leader key, fail in etcd even when its clock says it may act.
    const stale = new EtcdInventoryStore(a.etcd, "/t1");
    stale.setGuard({ name: "stale leader", check: () => undefined, fence: { key: staleFence.key, createRevision: staleFence.epoch } });
    const e2 = await t.throwsAsync(stale.save(newHostRecord({ hostname: "worker-1", personality: "worker" })));
    t.is((e2 as { code?: string }).code, "STORE_FENCED");
    await b.l.stop();
    await a.l.stop();
  },
);

test.serial(
  "split-brain rule on a real etcd: the leader whose heartbeat view is clearly worse for the hold time resigns to its peer, and does not campaign back",
  async (t) => {
    t.timeout(60_000);
    const cluster = await EtcdCluster.start();
    t.teardown(() => cluster.stop());
    const store = storeSchema.parse({ kind: "etcd", endpoints: cluster.endpoints, prefix: "/t2" });
    const ha = haSchema.parse({ leaseTtlS: 2, viewMargin: 2, viewHoldS: 1, viewPublishS: 0.2, resignHoldS: 1 });
    const clock = new SystemClock();
    const views: Record<string, number> = { "controller-0": 6, "controller-1": 6 };
    const mk = (hostname: string) => {
      const etcd = createEtcdClient(store);
      const l = new Leadership({
        etcd,
        prefix: "/t2",
        hostname,
        ha,
        callTimeoutMs: store.callTimeoutMs,
        clock,
        log,
        ownView: () => ({
          hostname,
          at: Date.now(),
          periodMs: 100,
          networks: [{ network: "mgmt", periods: 20, enabled: 6, responding: views[hostname] as number }],
          responding: views[hostname],
        }),
      });
      return { etcd, l };
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
    await waitFor("both views published", () => a.l.peerViews.size === 2 && b.l.peerViews.size === 2);
    // Even views: nothing happens for longer than the hold time.
    await new Promise((r) => setTimeout(r, 2000));
    t.true(a.l.mayAct());
    // controller-0 loses sight of 3 hosts: after viewHoldS it resigns, controller-1 takes over.
    views["controller-0"] = 3;
    await waitFor("controller-1 leads", () => b.l.mayAct(), 15_000);
    t.false(a.l.mayAct());
    const resigned = a.l.history.find((e) => e.kind === "resigned");
    t.regex(resigned?.reason ?? "", /split-brain rule: controller-1 sees 6 hosts responding, this controller 3/);
    // It stays standby while the peer leads, even once its resign hold has passed.
    await new Promise((r) => setTimeout(r, 2500));
    t.true(b.l.mayAct());
    t.false(a.l.mayAct());
    await b.l.stop();
    await a.l.stop();
  },
);
