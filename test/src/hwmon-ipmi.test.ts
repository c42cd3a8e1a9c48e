import type { ActiveAlarm, AlarmEvent, AlarmManager } from "@metal/core";
import { BmcBroker } from "@metal/core/bmc/broker";
import { SystemClock, VirtualClock } from "@metal/core/clock/index";
import { secretFromString } from "@metal/core/di/secret";
import { HwmonMonitor, SENSOR_ALARM } from "@metal/core/hwmon/index";
import { IpmiDriver } from "@metal/plugin-ipmi";
import { IpmiSim } from "@metal/plugin-ipmi/testing/ipmi-sim";
import test from "ava";

class Alarms implements AlarmManager {
  private readonly map = new Map<string, ActiveAlarm>();
  raise(a: AlarmEvent) {
    this.map.set(`${a.id}|${a.entity}`, { ...a, raisedAt: 0 });
  }
  clear(id: string, _h: string, entity?: string) {
    this.map.delete(`${id}|${entity}`);
  }
  active() {
    return [...this.map.values()];
  }
}

test("hwmon over a real BMC: ipmi_sim's fan drops below its critical threshold → 200.007 and a degrade, through the broker", async (t) => {
  const sim = await IpmiSim.start({ sensorPollMs: 100 });
  t.teardown(() => sim.stop());
  const driver = new IpmiDriver(
    { host: "worker-5", address: "127.0.0.1", port: sim.port, username: sim.username, password: secretFromString(sim.password), options: { minIntervalMs: 0 } },
    new SystemClock(),
  );
  const broker = new BmcBroker(
    "worker-5",
    driver,
    { ratePerSec: 50, burst: 10, maxConcurrent: 1, breakerThreshold: 5, breakerOpenMs: 20_000 },
    new SystemClock(),
  );
  t.teardown(() => broker.close());
  const alarms = new Alarms();
  const degrade: boolean[] = [];
  const monitor = new HwmonMonitor({
    hostname: "worker-5",
    read: () => broker.driver.sensors!.read(),
    clock: new VirtualClock(),
    alarms,
    agent: { degrade: (_h, raised) => degrade.push(raised), reset: () => {}, powerCycle: () => {} },
    auditIntervalMs: 0,
  });
  await monitor.audit();
  t.is(monitor.severity("Fan_1"), "good");
  sim.setSensorRaw("Fan_1", 8); // 400 RPM, under the 500 RPM critical threshold
  for (let i = 0; i < 50; i++) {
    const fan = (await broker.driver.sensors!.read()).find((s) => s.name === "Fan_1");
    if (fan?.status === "cr") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await monitor.audit();
  t.deepEqual(alarms.active(), [], "the first critical reading is a transient");
  await monitor.audit();
  t.deepEqual(
    alarms.active().map((a) => [a.id, a.severity, a.entity]),
    [[SENSOR_ALARM, "critical", "sensor=Fan_1"]],
  );
  t.deepEqual(degrade, [true]);
  t.true(broker.metrics.calls >= 4);
});
