import { DefaultAlarmManager } from "@metal/core/alarms/manager";
import { VirtualClock } from "@metal/core/clock/virtual-clock";
import { HwmonMonitor, SENSOR_ALARM } from "@metal/core/hwmon/monitor";
import { silentLogger } from "@metal/core/logging/logger";
import test from "ava";
import { IpmiSim } from "../src/testing/ipmi-sim.js";
import { simDriver } from "./helpers.js";

test("hwmon over a real ipmitool: discrete and `na` sensors raise nothing, a threshold crossing raises 200.007", async (t) => {
  const sim = await IpmiSim.start({
    sensors: [
      { name: "Temp_CPU0", kind: "temperature", raw: 42, thresholds: { unc: 85, ucr: 95, unr: 100 } },
      { name: "PS1_Status", kind: "discrete", raw: 0 },
      { name: "Temp_Absent", kind: "temperature", raw: 30, noReading: true, thresholds: { ucr: 95 } },
    ],
    sensorPollMs: 100,
  });
  t.teardown(() => sim.stop());
  const d = simDriver(sim);
  t.teardown(() => d.close());
  const clock = new VirtualClock();
  const alarms = new DefaultAlarmManager({ clock, log: silentLogger(), sinks: [] });
  const calls: string[] = [];
  const monitor = new HwmonMonitor({
    hostname: "worker-0",
    read: () => d.sensors.read(),
    clock,
    alarms,
    agent: { degrade: (_h, r) => calls.push(`degrade ${r}`), reset: () => calls.push("reset"), powerCycle: () => calls.push("power-cycle") },
    auditIntervalMs: 10_000,
  });
  const audit = async () => {
    await monitor.audit();
    await clock.advance(10_000);
  };
  await audit();
  await audit();
  t.deepEqual(alarms.active(), [], "discrete and na sensors are not faults");
  t.is(monitor.severity("PS1_Status"), "offline", "a discrete state word is no threshold reading");
  t.is(monitor.severity("Temp_Absent"), "offline");
  sim.setSensorRaw("Temp_CPU0", 97);
  let read = await d.sensors.read();
  for (let i = 0; i < 50 && read.find((r) => r.name === "Temp_CPU0")?.status !== "cr"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    read = await d.sensors.read();
  }
  await audit();
  await audit();
  const raised = alarms.active().filter((a) => a.id === SENSOR_ALARM);
  t.is(raised.length, 1);
  t.like(raised[0], { severity: "critical", entity: "sensor=Temp_CPU0" });
  t.deepEqual(calls, ["degrade true"]);
});
