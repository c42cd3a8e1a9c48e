/**
 * Issue 11 "fast-check every codec": the stored forms the agent reads back at start. A host file, the alarm
 * table, the alarm history and the cluster key file, each damaged at random (truncated, bytes flipped or
 * inserted, replaced by junk, renamed): reading never throws anything but the documented coded error, every
 * undamaged record still loads, and a damaged record either still passes the one schema or is quarantined
 * with a reason.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import fc from "fast-check";
import { readAlarmHistory } from "../src/alarms/history-sink.js";
import { FileInventoryStore } from "../src/inventory/file-store.js";
import { newHostRecord } from "../src/inventory/host.js";
import { checkHostRecord } from "../src/inventory/record-schema.js";
import { loadClusterKeys } from "../src/transport/cluster-key.js";
import { captureLogger } from "./helpers/capture-logger.js";

/** A way to damage a file's bytes. */
const damage = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("junk" as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ kind: fc.constant("json" as const), value: fc.jsonValue({ maxDepth: 30 }) }),
);
type Damage = typeof damage extends fc.Arbitrary<infer T> ? T : never;

function apply(bytes: Buffer, d: Damage): Buffer {
  switch (d.kind) {
    case "truncate":
      return bytes.subarray(0, d.at % (bytes.length + 1));
    case "flip": {
      const out = Buffer.from(bytes);
      if (out.length) out[d.at % out.length] = (out[d.at % out.length] as number) ^ (1 << d.bit);
      return out;
    }
    case "insert": {
      const i = d.at % (bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, i), Buffer.from(d.bytes), bytes.subarray(i)]);
    }
    case "junk":
      return Buffer.from(d.bytes);
    case "json":
      return Buffer.from(JSON.stringify(d.value));
  }
}

test("host files and alarms.json damaged at random: load never throws, undamaged hosts load, damaged ones load valid or are quarantined", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "metal-stored-prop-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  let run = 0;
  await t.notThrowsAsync(
    fc.assert(
      fc.asyncProperty(damage, damage, fc.boolean(), async (hostDamage, alarmDamage, rename) => {
        const dir = join(root, String(run++));
        const store = new FileInventoryStore({ stateDir: dir, fsync: false });
        const hosts = ["worker-0", "worker-1", "worker-2"].map((hostname, i) =>
          newHostRecord({ hostname, personality: "worker", mgmtIp: `10.0.0.${i + 1}`, bmc: { type: "ipmi", address: "10.1.0.1", username: "root" } }),
        );
        for (const h of hosts) await store.save(h);
        await store.commit([{ op: "putAlarm", alarm: { id: "200.004", hostname: "worker-1", severity: "critical", text: "enable failed", raisedAt: 5 } }]);
        await store.close();
        const file = join(dir, "hosts", "worker-1.host.json");
        writeFileSync(file, apply(readFileSync(file), hostDamage));
        if (rename) renameSync(file, join(dir, "hosts", "worker-9.host.json"));
        const alarms = join(dir, "alarms.json");
        writeFileSync(alarms, apply(readFileSync(alarms), alarmDamage));

        const { logger, lines } = captureLogger("warn");
        const snap = await new FileInventoryStore({ stateDir: dir, log: logger, fsync: false }).load();
        const names = snap.hosts.map((h) => h.hostname);
        if (!names.includes("worker-0") || !names.includes("worker-2")) return false;
        for (const h of snap.hosts) if (!checkHostRecord(h).ok) return false;
        // worker-1's file: loaded as a valid record under its own name, or quarantined with a reason.
        const left = readdirSync(join(dir, "hosts")).filter((n) => n.endsWith(".host.json"));
        const damaged = rename ? "worker-9.host.json" : "worker-1.host.json";
        const loadedIt = left.includes(damaged) && names.includes(damaged.replace(".host.json", ""));
        const quarantinedIt = snap.quarantined.some((q) => q.source.endsWith(damaged) && q.reason.length > 0);
        if (loadedIt === quarantinedIt) return false;
        if (snap.quarantined.length !== lines.filter((l) => l.msg === "stored record quarantined").length) return false;
        for (const a of snap.alarms) if (typeof a.id !== "string" || typeof a.raisedAt !== "number") return false;
        return true;
      }),
      { numRuns: 150 },
    ),
  );
});

test("alarm history with random damage: the reader never throws and returns only whole records", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-hist-prop-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "alarm-history.jsonl");
  const rec = (i: number) => ({ id: "200.020", hostname: `worker-${i}`, severity: "warning", text: `event ${i}`, operation: "msg", at: i });
  const good = Buffer.from(Array.from({ length: 5 }, (_, i) => `${JSON.stringify(rec(i))}\n`).join(""), "utf8");
  t.notThrows(() =>
    fc.assert(
      fc.property(damage, (d) => {
        const bytes = apply(good, d);
        writeFileSync(path, bytes);
        const out = readAlarmHistory(path);
        const lines = bytes.toString("utf8").split("\n");
        // Every record whose line survived whole is read back; nothing is read that is not a whole line.
        const intact = Array.from({ length: 5 }, (_, i) => JSON.stringify(rec(i))).filter((l) => lines.includes(l));
        const read = out.map((r) => JSON.stringify(r));
        return intact.every((l) => read.includes(l)) && out.length <= lines.filter((l) => l !== "").length;
      }),
      { numRuns: 500 },
    ),
  );
});

test("cluster key file with any content: loads, or refuses with a ClusterKeyError code (never another error, never the key in the message)", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-key-prop-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "cluster.key");
  const hex = fc.uint8Array({ minLength: 32, maxLength: 48 }).map((b) => Buffer.from(b).toString("hex"));
  const content = fc.oneof(
    fc.array(fc.oneof(hex, fc.constantFrom("", "# rotation", "  ")), { maxLength: 4 }).map((l) => l.join("\n")),
    fc.string({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(content, (text) => {
        writeFileSync(path, text, { encoding: "latin1" });
        chmodSync(path, 0o600);
        try {
          const keys = loadClusterKeys(path);
          return keys.accepted.length >= 1 && keys.accepted.length <= 2 && keys.accepted[0] === keys.signing;
        } catch (err) {
          const e = err as { code?: string; message: string };
          const secret = text.split("\n").find((l) => /^[0-9a-f]{64,}$/.test(l.trim()));
          return (
            ["CLUSTER_KEY_INVALID", "CLUSTER_KEY_UNSAFE", "CLUSTER_KEY_MISSING"].includes(String(e.code)) && !(secret && e.message.includes(secret.trim()))
          );
        }
      }),
      { numRuns: 1000 },
    ),
  );
});
