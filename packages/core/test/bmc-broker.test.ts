import test from "ava";
import { BmcBroker, type BrokerSettings } from "../src/bmc/broker.js";
import { BmcBrokerPool } from "../src/bmc/broker-pool.js";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { DefaultBmcRegistry } from "../src/di/bmc-registry.js";
import { secretFromString } from "../src/di/secret.js";
import type { BmcError } from "../src/plugin-api/bmc.js";
import { FakeBmcFabric, fakeBmcFactory } from "../src/testing/fake-bmc.js";

const settings: BrokerSettings = { ratePerSec: 2, burst: 2, maxConcurrent: 1, breakerThreshold: 3, breakerOpenMs: 20_000 };
const target = (password = "fake-password", address = "10.0.0.1") => ({ host: "worker-0", address, username: "admin", password: secretFromString(password) });

function setup(s = settings) {
  const fabric = new FakeBmcFabric();
  const clock = new VirtualClock();
  const driver = fakeBmcFactory(fabric).create(target());
  const broker = new BmcBroker("worker-0", driver, s, clock);
  return { fabric, clock, broker, machine: fabric.machine("10.0.0.1") };
}

test("the token bucket lets a burst through, then paces calls at the configured rate (virtual time)", async (t) => {
  const { clock, broker } = setup();
  const done: number[] = [];
  const calls = Array.from({ length: 5 }, () => broker.driver.power!.status().then(() => done.push(clock.now())));
  await clock.advance(0);
  t.is(done.length, 2, "the burst of 2 passes at once");
  await clock.advance(500);
  t.is(done.length, 3, "then one call per 500 ms (2/s)");
  await clock.advance(1000);
  await Promise.all(calls);
  t.is(done.length, 5);
  t.is(broker.metrics.throttled, 3);
  t.is(broker.metrics.ok, 5);
});

test("the circuit opens after consecutive access failures, refuses without calling, then a trial call closes it", async (t) => {
  const { clock, broker, machine } = setup({ ...settings, ratePerSec: 100, burst: 100 });
  machine.unreachable = true;
  for (let i = 0; i < 3; i++) await t.throwsAsync(broker.driver.power!.status());
  t.is(broker.breakerState, "open");
  const refused = await t.throwsAsync(broker.driver.power!.status());
  t.regex(refused!.message, /circuit open/);
  t.is(broker.metrics.rejected, 1);
  machine.unreachable = false;
  await t.throwsAsync(broker.driver.power!.status(), undefined, "still open before breakerOpenMs");
  await clock.advance(20_000);
  t.is(await broker.driver.power!.status(), "off", "the half-open trial call reaches the BMC");
  t.is(broker.breakerState, "closed");
  t.is(broker.metrics.failuresByCode.unreachable, 3);
});

test("a failed half-open trial re-opens the circuit at once", async (t) => {
  const { clock, broker, machine } = setup({ ...settings, ratePerSec: 100, burst: 100 });
  machine.unreachable = true;
  for (let i = 0; i < 3; i++) await t.throwsAsync(broker.driver.power!.status());
  await clock.advance(20_000);
  await t.throwsAsync(broker.driver.power!.status());
  t.is(broker.breakerState, "open");
});

test("a wrong password does not trip the breaker (it is not an access fault) and surfaces as 'auth'", async (t) => {
  const fabric = new FakeBmcFabric();
  const broker = new BmcBroker("w", fakeBmcFactory(fabric).create(target("wrong")), { ...settings, ratePerSec: 100, burst: 100 }, new VirtualClock());
  for (let i = 0; i < 5; i++) {
    const err = await t.throwsAsync(broker.driver.info!.get());
    t.is((err as BmcError).code, "auth");
  }
  t.is(broker.breakerState, "closed");
});

test("calls to one BMC are capped at maxConcurrent; metrics count by capability", async (t) => {
  const { broker } = setup({ ...settings, ratePerSec: 1000, burst: 1000 });
  await Promise.all([broker.driver.power!.status(), broker.driver.sensors!.read(), broker.driver.info!.get(), broker.driver.power!.status()]);
  t.is(broker.metrics.maxInFlight, 1);
  t.deepEqual(broker.metrics.callsByCapability, { power: 2, sensors: 1, info: 1 });
  await broker.driver.close();
  await t.throwsAsync(broker.driver.power!.status());
});

test("the pool gives every caller of one BMC the same broker (one session), and a different BMC its own", (t) => {
  const registry = new DefaultBmcRegistry();
  registry.register(fakeBmcFactory(new FakeBmcFabric()), "fake");
  const pool = new BmcBrokerPool(registry, settings, new VirtualClock());
  const a = pool.get("fake", target());
  t.is(pool.get("fake", target()), a);
  t.not(pool.get("fake", target("fake-password", "10.0.0.2")), a);
  t.is(pool.list().length, 2);
});
