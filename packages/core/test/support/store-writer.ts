/**
 * Child process for the kill -9 tests: commits host records in a loop, printing each generation after its
 * commit resolved (so the parent knows which generations are durable). Mode "single": one commit per host;
 * mode "txn": all three hosts in one commit (the journal path), so they must always load at one generation.
 */
import { FileInventoryStore } from "../../src/inventory/file-store.js";
import { newHostRecord } from "../../src/inventory/host.js";

const dir = process.argv[2];
const mode = process.argv[3] ?? "single";
if (!dir) throw new Error("usage: store-writer DIR [single|txn]");
const store = new FileInventoryStore({ stateDir: dir });
const hosts = ["worker-0", "worker-1", "worker-2"];
for (let gen = 1; ; gen++) {
  const recs = hosts.map((h) => {
    const rec = newHostRecord({ hostname: h, personality: "worker" });
    rec.uptime = gen;
    // A large field makes each write span several blocks, so a kill lands mid-write often.
    rec.mtceInfo = { pad: "x".repeat(64 * 1024 + gen), gen };
    return rec;
  });
  if (mode === "txn") await store.commit(recs.map((host) => ({ op: "putHost" as const, host })));
  else for (const rec of recs) await store.save(rec);
  process.stdout.write(`${gen}\n`);
}
