import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { FileInventoryStore } from "../src/inventory/file-store.js";
import { newHostRecord } from "../src/inventory/host.js";
import { validateNewHost } from "../src/inventory/record-schema.js";

const writer = join(fileURLToPath(new URL(".", import.meta.url)), "support", "store-writer.js");

test("store round-trip: save, load, remove; temp leftovers are swept", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-inv-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = new FileInventoryStore({ stateDir: dir });
  const a = newHostRecord({ hostname: "worker-0", personality: "worker", mgmtIp: "192.168.204.10", mgmtMac: "52:54:00:AA:BB:CC" });
  await s.save(a);
  await s.save({ ...a, hostname: "worker-1" });
  writeFileSync(join(dir, "hosts", "worker-2.host.json.123.tmp"), "{torn");
  const loaded = (await s.load()).hosts;
  t.deepEqual(
    loaded.map((h) => h.hostname),
    ["worker-0", "worker-1"],
  );
  t.is(loaded[0]?.mgmtMac, "52:54:00:aa:bb:cc");
  t.false(readdirSync(join(dir, "hosts")).some((f) => f.endsWith(".tmp")));
  await s.remove("worker-1");
  await s.remove("worker-1");
  t.deepEqual(
    (await s.load()).hosts.map((h) => h.hostname),
    ["worker-0"],
  );
});

test("host input validation names the bad field", (t) => {
  t.is(validateNewHost({ hostname: "Bad_Name", personality: "worker" }), "hostname: lower-case letters, digits and '-', at most 63, not starting with '-'");
  t.is(validateNewHost({ hostname: "w0", personality: "router" as "worker" }), "personality: must be controller, worker or storage");
  t.is(validateNewHost({ hostname: "w0", personality: "worker", mgmtMac: "zz" }), "mgmtMac: six colon-separated hex octets");
  t.is(validateNewHost({ hostname: "w0", personality: "worker", mgmtIp: "1.2.3.4; rm -rf" }), "mgmtIp: not an IP address");
  t.is(validateNewHost({ hostname: "w0", personality: "worker", bmc: { type: "ipmi" } as never }), "bmc.address: needs type, address and username");
  t.is(validateNewHost({ hostname: "w0", personality: "worker", extra: 1 } as never), 'Unrecognized key: "extra"');
  t.is(
    validateNewHost({ hostname: "w0", personality: "worker", bmc: { type: "ipmi", address: "10.0.0.1", username: "a\u0007" } } as never),
    "bmc.username: control characters are not allowed",
  );
  t.is(validateNewHost({ hostname: "w0", personality: "worker" }), undefined);
});

/** Run the writer child in `mode`, kill -9 it after `target` acknowledged generations, return the last acknowledged. */
async function killWriter(dir: string, mode: string, target: number): Promise<number> {
  const child = spawn(process.execPath, [writer, dir, mode], { stdio: ["ignore", "pipe", "inherit"] });
  let acked = 0;
  let buf = "";
  child.stdout.on("data", (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) acked = Math.max(acked, Number(l));
  });
  const exited = new Promise((r) => child.once("exit", r));
  const deadline = Date.now() + 20_000;
  while (acked < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  child.kill("SIGKILL");
  await exited;
  return acked;
}

for (const mode of ["single", "txn"]) {
  test(`kill -9 during ${mode === "txn" ? "multi-host commits (journal)" : "writes"}: every record loads whole, no acknowledged generation is lost`, async (t) => {
    for (let round = 0; round < 5; round++) {
      const dir = mkdtempSync(join(tmpdir(), "metal-kill-"));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      const target = 3 + round * 5;
      const acked = await killWriter(dir, mode, target);
      t.true(acked >= target, `writer made progress (round ${round})`);
      const snap = await new FileInventoryStore({ stateDir: dir }).load();
      t.deepEqual(snap.quarantined, [], "no torn record");
      t.is(snap.hosts.length, 3, `all three records load (round ${round})`);
      const gens = snap.hosts.map((h) => (h.mtceInfo as { gen: number }).gen);
      for (const h of snap.hosts) {
        const gen = (h.mtceInfo as { gen: number }).gen;
        t.is(h.uptime, gen, "record is internally consistent");
        t.is((h.mtceInfo as { pad: string }).pad.length, 64 * 1024 + gen);
        t.true(gen >= acked, `${h.hostname}: generation ${gen} is at least the acknowledged ${acked}`);
        t.true(gen <= acked + 1);
      }
      if (mode === "txn") t.is(new Set(gens).size, 1, `one commit's hosts load at one generation (${gens.join(",")})`);
    }
  });
}

test("quarantine: bad files are moved to <stateDir>/quarantine with one log line each naming file and reason", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-quar-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lines: Array<Record<string, unknown>> = [];
  const log = {
    warn: (o: object, msg?: string) => lines.push({ ...o, msg }),
    info: () => undefined,
    debug: () => undefined,
    error: () => undefined,
    trace: () => undefined,
    fatal: () => undefined,
    child: () => log,
  };
  const s = new FileInventoryStore({ stateDir: dir, log });
  const good = newHostRecord({ hostname: "worker-0", personality: "worker" });
  await s.save(good);
  writeFileSync(join(dir, "hosts", "worker-1.host.json"), '{"hostname":"worker-1","pers');
  writeFileSync(join(dir, "hosts", "worker-2.host.json"), JSON.stringify({ ...good, hostname: "worker-2", administrative: "bogus" }));
  writeFileSync(join(dir, "alarms.json"), "\u0000\u0001binary");
  writeFileSync(join(dir, "hosts", "notes.txt"), "an operator's note is not a record");
  const snap = await new FileInventoryStore({ stateDir: dir, log }).load();
  t.deepEqual(
    snap.hosts.map((h) => h.hostname),
    ["worker-0"],
  );
  t.is(lines.length, 3);
  for (const l of lines) {
    t.is(l.msg, "stored record quarantined");
    t.truthy(l.file);
    t.truthy(l.reason);
  }
  t.regex(String(lines.find((l) => String(l.file).includes("worker-2"))?.reason), /administrative/);
  t.is(readdirSync(join(dir, "quarantine")).length, 3);
  t.deepEqual(readdirSync(join(dir, "hosts")).sort(), ["notes.txt", "worker-0.host.json"]);
  chmodSync(dir, 0o700);
});
