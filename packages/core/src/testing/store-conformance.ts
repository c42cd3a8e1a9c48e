import type { ExecutionContext, TestFn } from "ava";
import type { ActiveAlarm } from "../alarms/alarm-manager.js";
import type { AlarmRecord } from "../alarms/sink.js";
import { newHostRecord } from "../inventory/host.js";
import { alarmKey, type HostRecord, type InventoryStore, type WriteGuard } from "../inventory/store.js";

/**
 * The store conformance suite: what every InventoryStore engine (file, etcd, memory) must do, run against a
 * real instance of it. An engine author supplies a target that creates empty storage and opens handles on it.
 */
export interface StoreConformanceTarget {
  /** Shown in test titles, e.g. "file" or "etcd@127.0.0.1:2379". */
  readonly name: string;
  /** Fresh, empty storage for one test. */
  create(): Promise<StoreFixture>;
}

export interface StoreFixture {
  /** A new handle on the same storage: what a restarted agent (a new process) would get. */
  open(): Promise<InventoryStore>;
  /** Store raw bytes as `hostname`'s record, bypassing every check (a corrupted disk, a foreign writer). */
  plantRaw(hostname: string, bytes: Uint8Array): Promise<void>;
  /** A write guard this engine honours, held until `revoke()` (etcd: a leader key on a lease). */
  guard(): Promise<{ guard: WriteGuard; revoke(): Promise<void> }>;
  /** Close handles and remove the storage. */
  dispose(): Promise<void>;
}

/** Stored bytes no store may load, one per kind of corruption seen in the field (issue 11). */
export const CORRUPT_RECORDS: ReadonlyArray<{ kind: string; hostname: string; bytes: (good: HostRecord) => Uint8Array }> = [
  { kind: "truncated", hostname: "bad-truncated", bytes: (g) => Buffer.from(JSON.stringify({ ...g, hostname: "bad-truncated" }).slice(0, 40)) },
  { kind: "empty", hostname: "bad-empty", bytes: () => new Uint8Array(0) },
  { kind: "binary", hostname: "bad-binary", bytes: () => Uint8Array.from([0xff, 0xfe, 0x00, 0x7b, 0xc3, 0x28, 0x80, 0x81, 0x00, 0x01]) },
  { kind: "name-mismatched", hostname: "bad-name", bytes: (g) => Buffer.from(JSON.stringify({ ...g, hostname: "someone-else" })) },
  { kind: "bogus enum", hostname: "bad-enum", bytes: (g) => Buffer.from(JSON.stringify({ ...g, hostname: "bad-enum", administrative: "bogus" })) },
  {
    kind: "nested 5,000 deep",
    hostname: "bad-deep",
    bytes: (g) => Buffer.from(JSON.stringify({ ...g, hostname: "bad-deep", bmc: "@" }).replace('"@"', `${"[".repeat(5000)}${"]".repeat(5000)}`)),
  },
  { kind: "not an object", hostname: "bad-array", bytes: () => Buffer.from("[1,2,3]") },
];

const host = (name: string, extra: Partial<HostRecord> = {}): HostRecord => ({
  ...newHostRecord({ hostname: name, personality: "worker", mgmtIp: `192.168.204.${10 + (name.length % 200)}` }),
  ...extra,
});

const alarm = (id: string, hostname: string): ActiveAlarm => ({ id, hostname, severity: "major", text: `${hostname} ${id}`, raisedAt: 1_700_000_000_000 });

async function withFixture(target: StoreConformanceTarget, fn: (f: StoreFixture) => Promise<void>): Promise<void> {
  const f = await target.create();
  try {
    await fn(f);
  } finally {
    await f.dispose();
  }
}

const names = (hosts: readonly HostRecord[]) => hosts.map((h) => h.hostname);
const codeOf = (err: unknown) => (err as { code?: string } | undefined)?.code;

/** What a commit acknowledged is what a new handle (a restarted process) loads. */
export const commitBeforeAck = async (t: ExecutionContext, target: StoreConformanceTarget) => {
  await withFixture(target, async (f) => {
    const s = await f.open();
    await s.load();
    const queuedLock = host("worker-1", { action: "add", queued: ["lock", "unlock"] });
    await s.save(host("worker-0"));
    await s.save(queuedLock);
    await s.commit([{ op: "putAlarm", alarm: alarm("200.004", "worker-0") }]);
    await s.save(host("worker-2"));
    await s.remove("worker-2");
    await s.remove("never-there");
    const again = await (await f.open()).load();
    t.deepEqual(names(again.hosts), ["worker-0", "worker-1"]);
    t.deepEqual(again.hosts[1], queuedLock, "queued admin actions are part of the record");
    t.deepEqual(
      again.alarms.map((a) => alarmKey(a)),
      ["200.004|worker-0|"],
    );
    t.deepEqual(again.quarantined, []);
  });
};

/** A commit's ops apply together, later ops win; an empty commit is a no-op. */
export const commitIsAtomic = async (t: ExecutionContext, target: StoreConformanceTarget) => {
  await withFixture(target, async (f) => {
    const s = await f.open();
    await s.load();
    await s.commit([]);
    await s.commit([
      { op: "putHost", host: host("worker-0") },
      { op: "putHost", host: host("worker-1") },
      { op: "putHost", host: host("worker-0", { uptime: 7 }) },
      { op: "deleteHost", hostname: "worker-1" },
      { op: "putAlarm", alarm: alarm("200.004", "worker-0") },
      { op: "putAlarm", alarm: alarm("200.005", "worker-0") },
      { op: "deleteAlarm", key: "200.004|worker-0|" },
    ]);
    const again = await (await f.open()).load();
    t.deepEqual(names(again.hosts), ["worker-0"]);
    t.is(again.hosts[0]?.uptime, 7);
    t.deepEqual(
      again.alarms.map((a) => a.id),
      ["200.005"],
    );
  });
};

/** A record that fails the schema makes the whole commit fail with STORE_INVALID; nothing is written. */
export const invalidRecordsAreRefused = async (t: ExecutionContext, target: StoreConformanceTarget) => {
  await withFixture(target, async (f) => {
    const s = await f.open();
    await s.load();
    const bad = [
      { ...host("worker-9"), administrative: "bogus" },
      { ...host("worker-9"), hostname: "../../etc/passwd" },
      { ...host("worker-9"), task: "a\u0000b" },
      { ...host("worker-9"), mtceInfo: { deep: JSON.parse(`${"[".repeat(50)}${"]".repeat(50)}`) } },
    ] as HostRecord[];
    for (const b of bad) {
      const err = await t.throwsAsync(
        s.commit([
          { op: "putHost", host: host("worker-0") },
          { op: "putHost", host: b },
        ]),
      );
      t.is(codeOf(err), "STORE_INVALID", `refused: ${err?.message}`);
    }
    const err = await t.throwsAsync(s.remove("../escape"));
    t.is(codeOf(err), "STORE_INVALID");
    t.deepEqual(names((await (await f.open()).load()).hosts), []);
  });
};

/** transact: reads see committed state plus own writes; writes land together; a throw writes nothing. */
export const transactions = async (t: ExecutionContext, target: StoreConformanceTarget) => {
  await withFixture(target, async (f) => {
    const s = await f.open();
    await s.load();
    await s.save(host("worker-0"));
    await s.save(host("worker-2"));
    const seen = await s.transact((tx) => {
      tx.putHost(host("worker-1"));
      tx.deleteHost("worker-2");
      tx.putAlarm(alarm("200.010", "worker-1"));
      return { one: tx.getHost("worker-1")?.hostname, two: tx.getHost("worker-2"), all: tx.hostnames() };
    });
    t.deepEqual(seen, { one: "worker-1", two: undefined, all: ["worker-0", "worker-1"] });
    await t.throwsAsync(
      s.transact((tx) => {
        tx.deleteHost("worker-0");
        tx.putHost(host("worker-5"));
        throw new Error("changed my mind");
      }),
      { message: "changed my mind" },
    );
    const again = await (await f.open()).load();
    t.deepEqual(names(again.hosts), ["worker-0", "worker-1"]);
    t.deepEqual(
      again.alarms.map((a) => a.id),
      ["200.010"],
    );
  });
};

/** Concurrent read-modify-write transactions (and plain commits between them) lose no update. */
export const transactionsAreSerialised = async (t: ExecutionContext, target: StoreConformanceTarget) => {
  await withFixture(target, async (f) => {
    const s = await f.open();
    await s.load();
    await s.save(host("worker-0"));
    const n = 20;
    const bumps = Array.from({ length: n }, (_, i) =>
      i % 5 === 4
        ? s.save(host(`other-${i}`))
        : s.transact(async (tx) => {
            const h = tx.getHost("worker-0") as HostRecord;
            await new Promise((r) => setTimeout(r, 1));
            tx.putHost({ ...h, uptime: h.uptime + 1 });
          }),
    );
    await Promise.all(bumps);
    const again = await (await f.open()).load();
    t.is(again.hosts.find((h) => h.hostname === "worker-0")?.uptime, n - n / 5);
    t.is(again.hosts.length, 1 + n / 5);
  });
};

/** Bad stored records are moved aside with their reason; every good one loads; a second load is clean. */
export const quarantineBadRecords = async (t: ExecutionContext, target: StoreConformanceTarget) => {
  await withFixture(target, async (f) => {
    const s = await f.open();
    await s.load();
    const good = host("worker-0", { action: "lock", queued: ["unlock"] });
    await s.save(good);
    for (const c of CORRUPT_RECORDS) await f.plantRaw(c.hostname, c.bytes(good));
    const first = await (await f.open()).load();
    t.deepEqual(first.hosts, [good], "the good host loads");
    t.is(first.quarantined.length, CORRUPT_RECORDS.length, "each bad record is quarantined");
    for (const c of CORRUPT_RECORDS) {
      const q = first.quarantined.find((r) => r.source.includes(c.hostname));
      t.truthy(q, `${c.kind} is quarantined`);
      t.true((q?.reason.length ?? 0) > 0, `${c.kind} has a reason`);
    }
    t.regex(first.quarantined.find((r) => r.source.includes("bad-enum"))?.reason ?? "", /administrative/);
    const second = await (await f.open()).load();
    t.deepEqual(second.hosts, [good]);
    t.deepEqual(second.quarantined, [], "quarantined records are gone from the store");
  });
};

/** With a guard that holds, writes go through; once revoked, commits and transactions fail STORE_FENCED and write nothing. */
export const guardedWrites = async (t: ExecutionContext, target: StoreConformanceTarget) => {
  await withFixture(target, async (f) => {
    const s = await f.open();
    await s.load();
    const { guard, revoke } = await f.guard();
    s.setGuard(guard);
    await s.save(host("worker-0"));
    await revoke();
    const e1 = await t.throwsAsync(s.save(host("worker-1")));
    t.is(codeOf(e1), "STORE_FENCED");
    const e2 = await t.throwsAsync(s.transact((tx) => tx.putHost(host("worker-2"))));
    t.is(codeOf(e2), "STORE_FENCED");
    const e3 = await t.throwsAsync(s.remove("worker-0"));
    t.is(codeOf(e3), "STORE_FENCED");
    t.deepEqual(names((await (await f.open()).load()).hosts), ["worker-0"]);
    s.setGuard(undefined);
    await s.save(host("worker-3"));
    t.deepEqual(names((await (await f.open()).load()).hosts), ["worker-0", "worker-3"]);
  });
};

/** The alarm history keeps records in order; `limit` keeps the newest. */
export const alarmHistory = async (t: ExecutionContext, target: StoreConformanceTarget) => {
  await withFixture(target, async (f) => {
    const s = await f.open();
    const rec = (i: number): AlarmRecord => ({ id: "200.022", hostname: "worker-0", severity: "warning", text: `change ${i}`, operation: "msg", at: i });
    await s.appendHistory([rec(1), rec(2)]);
    await s.appendHistory([]);
    await s.appendHistory([rec(3)]);
    const other = await f.open();
    t.deepEqual(
      (await other.readHistory()).map((r) => r.text),
      ["change 1", "change 2", "change 3"],
    );
    t.deepEqual(
      (await other.readHistory({ limit: 2 })).map((r) => r.at),
      [2, 3],
    );
  });
};

/** After close, every call fails with STORE_CLOSED. */
export const closedStoreRefuses = async (t: ExecutionContext, target: StoreConformanceTarget) => {
  await withFixture(target, async (f) => {
    const s = await f.open();
    await s.load();
    await s.close();
    t.is(codeOf(await t.throwsAsync(s.save(host("worker-0")))), "STORE_CLOSED");
    t.is(
      codeOf(await t.throwsAsync(s.appendHistory([{ id: "200.022", hostname: "w", severity: "warning", text: "x", operation: "msg", at: 1 }]))),
      "STORE_CLOSED",
    );
  });
};

/** Register the whole suite on `test` (ava's default export). */
export function storeConformance(test: TestFn, target: StoreConformanceTarget): void {
  const cases: Array<[string, (t: ExecutionContext, target: StoreConformanceTarget) => Promise<void>]> = [
    ["a commit is durable when it resolves (a new handle loads it, queued actions included)", commitBeforeAck],
    ["a commit is atomic and later ops win", commitIsAtomic],
    ["a record failing the schema fails the commit with STORE_INVALID, nothing written", invalidRecordsAreRefused],
    ["transactions: own writes visible, committed together, a throw writes nothing", transactions],
    ["concurrent transactions and commits lose no update", transactionsAreSerialised],
    ["bad stored records are quarantined with a reason and every good one loads", quarantineBadRecords],
    ["guarded writes: refused with STORE_FENCED once the guard is revoked", guardedWrites],
    ["the alarm history appends in order", alarmHistory],
    ["a closed store refuses with STORE_CLOSED", closedStoreRefuses],
  ];
  for (const [title, fn] of cases) test(`store conformance (${target.name}): ${title}`, (t) => fn(t, target));
}
