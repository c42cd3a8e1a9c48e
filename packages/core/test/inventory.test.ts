import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { FileInventoryStore } from "../src/inventory/file-store.js";
import { newHostRecord, validateNewHost } from "../src/inventory/host.js";

const writer = join(fileURLToPath(new URL(".", import.meta.url)), "support", "store-writer.js");

test("store round-trip: save, load, remove; temp leftovers are swept", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-inv-"));
  const s = new FileInventoryStore(dir);
  const a = newHostRecord({ hostname: "worker-0", personality: "worker", mgmtIp: "192.168.204.10", mgmtMac: "52:54:00:AA:BB:CC" });
  await s.save(a);
  await s.save({ ...a, hostname: "worker-1" });
  writeFileSync(join(dir, "worker-2.host.json.123.tmp"), "{torn");
  const loaded = await s.load();
  t.deepEqual(
    loaded.map((h) => h.hostname),
    ["worker-0", "worker-1"],
  );
  t.is(loaded[0]?.mgmtMac, "52:54:00:aa:bb:cc");
  t.false(readdirSync(dir).some((f) => f.endsWith(".tmp")));
  await s.remove("worker-1");
  await s.remove("worker-1");
  t.deepEqual(
    (await s.load()).map((h) => h.hostname),
    ["worker-0"],
  );
});

test("host input validation names the bad field", (t) => {
  t.is(validateNewHost({ hostname: "Bad_Name", personality: "worker" }), "hostname: lower-case letters, digits and '-', at most 63");
  t.is(validateNewHost({ hostname: "w0", personality: "router" as "worker" }), "personality must be controller, worker or storage");
  t.is(validateNewHost({ hostname: "w0", personality: "worker", mgmtMac: "zz" }), "mgmtMac: six colon-separated hex octets");
  t.is(validateNewHost({ hostname: "w0", personality: "worker", mgmtIp: "1.2.3.4; rm -rf" }), "mgmtIp: not an IP address");
  t.is(validateNewHost({ hostname: "w0", personality: "worker", bmc: { type: "ipmi" } as never }), "bmc: needs type, address and username");
  t.is(validateNewHost({ hostname: "w0", personality: "worker" }), undefined);
});

test("kill -9 during writes: every record loads whole, and no acknowledged generation is lost", async (t) => {
  for (let round = 0; round < 6; round++) {
    const dir = mkdtempSync(join(tmpdir(), "metal-kill-"));
    const child = spawn(process.execPath, [writer, dir], { stdio: ["ignore", "pipe", "inherit"] });
    let acked = 0;
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const l of lines) acked = Math.max(acked, Number(l));
    });
    // Let it write for a while (bounded), then kill it without warning.
    const target = 5 + round * 7;
    const deadline = Date.now() + 20_000;
    while (acked < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    t.true(acked >= target, `writer made progress (round ${round})`);
    const hosts = new FileInventoryStore(dir).loadSync();
    t.is(hosts.length, 3, `all three records load (round ${round})`);
    for (const h of hosts) {
      const gen = (h.mtceInfo as { gen: number }).gen;
      t.is(h.uptime, gen, "record is internally consistent");
      t.is((h.mtceInfo as { pad: string }).pad.length, 64 * 1024 + gen);
      t.true(gen >= acked, `${h.hostname}: generation ${gen} is at least the acknowledged ${acked}`);
      t.true(gen <= acked + 1);
    }
  }
});
