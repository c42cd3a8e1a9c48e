/**
 * Child process for the kill -9 test: saves host records in a tight loop, printing each generation after
 * its save returned (so the parent knows which generations are durable).
 */
import { FileInventoryStore } from "../../src/inventory/file-store.js";
import { newHostRecord } from "../../src/inventory/host.js";

const dir = process.argv[2];
if (!dir) throw new Error("usage: store-writer DIR");
const store = new FileInventoryStore(dir);
const hosts = ["worker-0", "worker-1", "worker-2"];
for (let gen = 1; ; gen++) {
  for (const h of hosts) {
    const rec = newHostRecord({ hostname: h, personality: "worker" });
    rec.uptime = gen;
    // A large field makes each write span several blocks, so a kill lands mid-write often.
    rec.mtceInfo = { pad: "x".repeat(64 * 1024 + gen), gen };
    store.saveSync(rec);
  }
  process.stdout.write(`${gen}\n`);
}
