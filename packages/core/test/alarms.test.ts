import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { HistoryFileSink, readAlarmHistory } from "../src/alarms/history-sink.js";
import { DefaultAlarmManager } from "../src/alarms/manager.js";
import type { AlarmRecord, AlarmSink } from "../src/alarms/sink.js";
import { SnmpTrapSink } from "../src/alarms/snmp-sink.js";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { silentLogger } from "../src/logging/logger.js";

class CollectSink implements AlarmSink {
  readonly name = "collect";
  readonly records: AlarmRecord[] = [];
  fail = false;
  deliver(r: AlarmRecord): void {
    if (this.fail) throw new Error("sink down");
    this.records.push(r);
  }
}

function manager(sinks: AlarmSink[], stateFile?: string) {
  return new DefaultAlarmManager({ clock: new VirtualClock(), log: silentLogger(), sinks, ...(stateFile ? { stateFile } : {}) });
}

test("de-duplication: a repeated raise is delivered once; a severity change and a clear are delivered", (t) => {
  const sink = new CollectSink();
  const m = manager([sink]);
  const alarm = { id: "200.005", hostname: "worker-1", severity: "major" as const, entity: "Management", text: "mgmt heartbeat degraded" };
  m.raise(alarm);
  m.raise(alarm);
  t.is(sink.records.length, 1);
  m.raise({ ...alarm, severity: "critical" });
  t.is(sink.records.length, 2);
  m.clear("200.005", "worker-1", "Management");
  m.clear("200.005", "worker-1", "Management");
  t.deepEqual(
    sink.records.map((r) => `${r.operation}:${r.severity}`),
    ["set:major", "set:critical", "clear:clear"],
  );
  m.raise({ id: "999.999", hostname: "worker-1", severity: "major", text: "unknown" });
  t.is(m.active().length, 0, "unknown ids are refused");
  m.log("200.021", "worker-1", "worker-1 lock");
  t.is(sink.records.at(-1)?.operation, "msg");
  t.is(m.active().length, 0, "logs are not active alarms");
});

test("active alarms reload after a restart; the audit clears what should not be active and re-delivers what a sink missed", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-alarm-"));
  const state = join(dir, "alarms.json");
  const first = manager([], state);
  first.raise({ id: "200.001", hostname: "worker-0", severity: "warning", text: "locked" });
  first.raise({ id: "200.004", hostname: "worker-1", severity: "critical", text: "enable failed" });
  const sink = new CollectSink();
  const again = manager([sink], state);
  t.deepEqual(
    again.active().map((a) => `${a.id} ${a.hostname}`),
    ["200.001 worker-0", "200.004 worker-1"],
  );
  t.is(sink.records.length, 0, "a reload does not re-announce");
  sink.fail = true;
  again.raise({ id: "200.011", hostname: "worker-1", severity: "critical", text: "config" });
  t.is(sink.records.length, 0);
  sink.fail = false;
  const result = await again.audit((a) => a.hostname !== "worker-0");
  // The clear of the audit waits behind the record the sink missed: a sink sees every change in order.
  t.deepEqual(result, { cleared: 1, redelivered: 2 });
  t.deepEqual(
    sink.records.map((r) => `${r.operation} ${r.id}`),
    ["set 200.011", "clear 200.001"],
  );
});

test("history sink: append-only JSON lines, a torn tail is skipped", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-hist-"));
  const path = join(dir, "history.jsonl");
  const a = new HistoryFileSink(path);
  const m = manager([a]);
  m.raise({ id: "200.001", hostname: "worker-0", severity: "warning", text: "locked" });
  m.clear("200.001", "worker-0");
  a.close();
  const b = new HistoryFileSink(path);
  manager([b]).raise({ id: "200.010", hostname: "worker-2", severity: "warning", text: "bmc" });
  b.close();
  writeFileSync(path, '{"id":"200.0', { flag: "a" });
  t.deepEqual(
    readAlarmHistory(path).map((r) => `${r.operation} ${r.id} ${r.hostname}`),
    ["set 200.001 worker-0", "clear 200.001 worker-0", "set 200.010 worker-2"],
  );
});

async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Start a real snmptrapd on a free loopback port; resolves once it is ready. Fails loudly if it is missing. */
async function startTrapd(dir: string): Promise<{ proc: ChildProcess; port: number; lines: string[] }> {
  const conf = join(dir, "snmptrapd.conf");
  writeFileSync(conf, "disableAuthorization yes\n");
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeUdpPort();
    const proc = spawn("snmptrapd", ["-f", "-Lo", "-C", "-c", conf, "-n", "-m", "", `udp:127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    let exited = false;
    const ready = new Promise<boolean>((resolve, reject) => {
      proc.once("error", reject);
      proc.once("exit", () => {
        exited = true;
        resolve(false);
      });
      const onData = (d: Buffer) => {
        lines.push(...d.toString().split("\n"));
        if (lines.some((l) => l.includes("NET-SNMP version"))) resolve(true);
      };
      proc.stdout?.on("data", onData);
      proc.stderr?.on("data", onData);
      setTimeout(() => resolve(false), 10_000);
    });
    if (await ready) return { proc, port, lines };
    if (!exited) proc.kill();
  }
  throw new Error("snmptrapd did not start (is the snmptrapd package installed? see scripts/setup.sh)");
}

test("SNMP sink: a real snmptrapd receives the trap with alarm id, host, severity and text", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-trap-"));
  const trapd = await startTrapd(dir);
  t.teardown(() => {
    trapd.proc.kill();
  });
  const sink = new SnmpTrapSink({ address: "127.0.0.1", port: trapd.port, community: "public" });
  t.teardown(() => sink.close());
  const m = manager([sink]);
  m.raise({ id: "200.005", hostname: "worker-1", severity: "critical", entity: "Management", text: "worker-1 mgmt heartbeat lost" });
  m.clear("200.005", "worker-1", "Management");
  const deadline = Date.now() + 10_000;
  const has = (s: string) => trapd.lines.some((l) => l.includes(s));
  while (Date.now() < deadline && !(has('"200.005 worker-1 critical"') && has('"200.005 worker-1 clear"'))) await new Promise((r) => setTimeout(r, 50));
  const set = trapd.lines.find((l) => l.includes('"200.005 worker-1 critical"'));
  t.truthy(set, trapd.lines.join("\n"));
  t.true(set?.includes('STRING: "worker-1 mgmt heartbeat lost"'));
  t.true(set?.includes('STRING: "host=worker-1.Management"'));
  t.true(set?.includes("731.1.1.0.1"), "set trap OID");
  t.true(has('"200.005 worker-1 clear"'), "clear trap");
});

test("a failing alarms.json or history write never throws out of raise/clear: told once, kept, written when the medium works again", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-alarm-fault-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // A file where the state dir should be: every write under it fails (ENOTDIR/EEXIST), as a full or broken disk would.
  const blocked = join(dir, "state");
  writeFileSync(blocked, "not a directory");
  const clock = new VirtualClock();
  const lines: string[] = [];
  const log = { ...silentLogger(), error: (_o: unknown, msg: string) => lines.push(msg), info: (_o: unknown, msg: string) => lines.push(msg) };
  const history = new CollectSink();
  Object.assign(history, { stateTarget: "history", statePath: "h" });
  history.fail = true;
  const m = new DefaultAlarmManager({ clock, log: log as never, sinks: [history], stateFile: join(blocked, "alarms.json") });
  t.notThrows(() => {
    m.raise({ id: "200.004", hostname: "worker-1", severity: "critical", text: "enable failed" });
    m.raise({ id: "200.010", hostname: "worker-1", severity: "warning", text: "bmc" });
    m.clear("200.004", "worker-1");
  });
  t.deepEqual(
    m.active().map((a) => a.id),
    ["200.010"],
  );
  t.deepEqual(
    m.writes
      .faults()
      .map((f) => `${f.target} ${f.code}`)
      .sort(),
    ["alarms STORE_IO", "history STORE_IO"],
  );
  t.deepEqual(lines, ["state write failing", "state write failing"], "one line per target, not per write");
  t.is(m.pendingWrites, 4, "the table and three history records wait");
  m.retryWrites();
  t.is(m.pendingWrites, 4, "still failing: still kept");
  t.is(lines.length, 2, "a retry that fails again says nothing new");
  // The medium works again: the next pass (at most once a second) writes the table and the history in order.
  rmSync(blocked);
  history.fail = false;
  m.retryWrites();
  t.is(m.pendingWrites, 4, "not before a second has passed");
  await clock.advance(1_000);
  m.retryWrites();
  t.is(m.pendingWrites, 0);
  t.deepEqual(
    history.records.map((r) => `${r.operation} ${r.id}`),
    ["set 200.004", "set 200.010", "clear 200.004"],
  );
  t.deepEqual(
    (JSON.parse(readFileSync(join(blocked, "alarms.json"), "utf8")) as Array<{ id: string }>).map((a) => a.id),
    ["200.010"],
  );
  t.deepEqual(m.writes.faults(), []);
  t.is(lines.filter((l) => l === "state writes work again").length, 2);
});
