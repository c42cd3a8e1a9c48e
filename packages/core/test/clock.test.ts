import test from "ava";
import { ScaledClock } from "../src/clock/system-clock.js";
import { VirtualClock } from "../src/clock/virtual-clock.js";

test("a 20-minute timeout fires in virtual time, not before", async (t) => {
  const clock = new VirtualClock();
  let fired = false;
  clock.setTimeout(() => {
    fired = true;
  }, 20 * 60_000);
  await clock.advance(20 * 60_000 - 1);
  t.false(fired);
  await clock.advance(1);
  t.true(fired);
});

test("timers fire in due order, intervals repeat, cleared timers never fire", async (t) => {
  const clock = new VirtualClock(0);
  const log: string[] = [];
  clock.setTimeout(() => log.push(`b@${clock.now()}`), 200);
  clock.setTimeout(() => log.push(`a@${clock.now()}`), 100);
  const iv = clock.setInterval(() => log.push(`i@${clock.now()}`), 150);
  const gone = clock.setTimeout(() => log.push("never"), 120);
  clock.clearTimeout(gone);
  await clock.advance(300);
  clock.clearInterval(iv);
  await clock.advance(1000);
  t.deepEqual(log, ["a@100", "i@150", "b@200", "i@300"]);
});

test("promise chains started by a timer settle before the next timer", async (t) => {
  const clock = new VirtualClock(0);
  const log: string[] = [];
  clock.setTimeout(async () => {
    await Promise.resolve();
    await clock.sleep(50);
    log.push(`slept@${clock.now()}`);
  }, 10);
  clock.setTimeout(() => log.push(`t@${clock.now()}`), 100);
  await clock.advance(200);
  t.deepEqual(log, ["slept@60", "t@100"]);
});

test("advanceUntil stops as soon as the predicate holds", async (t) => {
  const clock = new VirtualClock(0);
  let n = 0;
  clock.setInterval(() => n++, 100);
  t.true(await clock.advanceUntil(() => n >= 5, 10_000));
  t.is(clock.now(), 500);
});

test("a scaled clock runs faster than real time", async (t) => {
  const c = new ScaledClock(100, 0);
  const start = c.now();
  await new Promise((r) => setTimeout(r, 50));
  t.true(c.now() - start >= 4000, `${c.now() - start}`);
  t.throws(() => new ScaledClock(0));
});
