import test from "ava";
import { PXEBOOT_ALARM_ID, PxebootMonitor } from "../src/agent/messaging-pxeboot-monitor.js";
import type { HostMessage } from "../src/agent/ports.js";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { silentLogger } from "../src/logging/logger.js";
import { MemoryAlarms } from "./helpers/memory-alarms.js";

function monitor() {
  const clock = new VirtualClock();
  const alarms = new MemoryAlarms();
  const events: HostMessage[] = [];
  const requests: string[] = [];
  const m = new PxebootMonitor(
    { periodMs: 10_000, lossThreshold: 6, alarmThreshold: 2 },
    clock,
    alarms,
    silentLogger(),
    (h) => requests.push(h),
    (e) => events.push(e),
  );
  m.start();
  return { clock, alarms, events, requests, m };
}

test("6 misses make a loss, 2 losses raise 200.003 minor (~2 min); recovery clears it", async (t) => {
  const { clock, alarms, events, requests, m } = monitor();
  m.watch("worker-1");
  let seq = 1;
  // Healthy: a new pxeboot mtcAlive every 5 s.
  const sender = clock.setInterval(() => m.seen("worker-1", seq++), 5_000);
  await clock.advance(60_000);
  t.deepEqual(alarms.active(), []);
  clock.clearInterval(sender);
  await clock.advance(40_000);
  t.deepEqual(events, [], "no loss before 6 misses");
  await clock.advance(40_000); // 6 checks without an increase by now
  t.deepEqual(events, [{ kind: "pxebootLoss", hostname: "worker-1" }]);
  t.deepEqual(alarms.active(), [], "one loss does not alarm");
  t.true(requests.length >= 6, "each miss re-sends the pxeboot mtcAlive request");
  await clock.advance(60_000);
  t.like(alarms.active()[0], { id: PXEBOOT_ALARM_ID, hostname: "worker-1", severity: "minor" });
  // Back: the miss count pays down, and at zero the alarm clears.
  const sender2 = clock.setInterval(() => m.seen("worker-1", seq++), 5_000);
  await clock.advance(60_000);
  clock.clearInterval(sender2);
  t.deepEqual(alarms.active(), []);
  t.deepEqual(events.at(-1), { kind: "pxebootRecovered", hostname: "worker-1" });
  t.deepEqual(
    alarms.history.map((h) => h.op),
    ["raise", "clear"],
  );
});

test("a decreased sequence (client restart) counts as a miss; unwatching (locked) clears the alarm", async (t) => {
  const { clock, alarms, m } = monitor();
  m.watch("worker-2");
  m.seen("worker-2", 100);
  await clock.advance(10_000);
  m.seen("worker-2", 1);
  await clock.advance(10_000);
  t.is(m.state("worker-2")?.misses, 1);
  await clock.advance(130_000);
  t.is(alarms.active().length, 1);
  m.unwatch("worker-2");
  t.is(alarms.active().length, 0);
  t.false(m.isWatched("worker-2"));
});
