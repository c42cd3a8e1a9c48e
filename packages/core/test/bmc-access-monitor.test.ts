import test from "ava";
import { BMC_ACCESS_ALARM, BmcAccessMonitor } from "../src/bmc/access-monitor.js";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { secretFromString } from "../src/di/secret.js";
import { FakeBmcFabric, fakeBmcFactory } from "../src/testing/fake-bmc.js";
import { MemoryAlarms } from "./helpers/memory-alarms.js";

function setup() {
  const fabric = new FakeBmcFabric();
  const clock = new VirtualClock();
  const alarms = new MemoryAlarms();
  const driver = fakeBmcFactory(fabric).create({ host: "worker-1", address: "10.0.0.5", username: "u", password: secretFromString("fake-password") });
  const monitor = new BmcAccessMonitor({
    hostname: "worker-1",
    probe: () => driver.power!.status(),
    clock,
    alarms,
    probeIntervalMs: 60_000,
    alarmDelayMs: 120_000,
  });
  return { machine: fabric.machine("10.0.0.5"), clock, alarms, monitor };
}

test("200.010 is raised only after the BMC has been inaccessible for 2 minutes, and cleared on access", async (t) => {
  const { machine, clock, alarms, monitor } = setup();
  monitor.start();
  t.teardown(() => monitor.stop());
  await clock.advance(0);
  t.true(monitor.isAccessible);
  machine.unreachable = true;
  await clock.advance(60_000);
  t.false(monitor.isAccessible);
  await clock.advance(119_000);
  t.deepEqual(alarms.active(), [], "not yet: 119 s since the failure was seen");
  await clock.advance(1_000);
  t.deepEqual(
    alarms.active().map((a) => [a.id, a.hostname, a.severity]),
    [[BMC_ACCESS_ALARM, "worker-1", "warning"]],
  );
  t.regex(alarms.active()[0]!.text, /access to board management module has failed/);
  machine.unreachable = false;
  await clock.advance(60_000);
  t.true(monitor.isAccessible);
  t.deepEqual(alarms.active(), []);
  t.deepEqual(
    alarms.history.map((h) => h.op),
    ["raise", "clear"],
  );
});

test("a BMC that comes back within 2 minutes raises nothing", async (t) => {
  const { machine, clock, alarms, monitor } = setup();
  monitor.start();
  t.teardown(() => monitor.stop());
  machine.unreachable = true;
  await clock.advance(60_000);
  machine.unreachable = false;
  await clock.advance(60_000);
  await clock.advance(300_000);
  t.deepEqual(alarms.history, []);
});
