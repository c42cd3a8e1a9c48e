import test from "ava";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { secretFromString } from "../src/di/secret.js";
import { validateGroupActions } from "../src/hwmon/actions.js";
import { SensorDebouncer } from "../src/hwmon/debounce.js";
import { sensorGroupOf } from "../src/hwmon/groups.js";
import { HwmonMonitor, type HwmonMonitorOptions, SENSOR_ALARM, SENSOR_GROUP_READ_ALARM } from "../src/hwmon/monitor.js";
import { severityOf } from "../src/hwmon/severity.js";
import { FakeBmcFabric, fakeBmcFactory } from "../src/testing/fake-bmc.js";
import { MemoryAlarms } from "./helpers/memory-alarms.js";

class RecordingAgent {
  readonly calls: string[] = [];
  degrade(h: string, raised: boolean) {
    this.calls.push(`degrade ${h} ${raised ? "raise" : "clear"}`);
  }
  reset(h: string) {
    this.calls.push(`reset ${h}`);
  }
  powerCycle(h: string) {
    this.calls.push(`power-cycle ${h}`);
  }
}

function setup(extra: Partial<HwmonMonitorOptions> = {}) {
  const fabric = new FakeBmcFabric();
  const driver = fakeBmcFactory(fabric).create({ host: "worker-0", address: "10.1.0.1", username: "u", password: secretFromString("fake-password") });
  const machine = fabric.machine("10.1.0.1");
  const clock = new VirtualClock();
  const alarms = new MemoryAlarms();
  const agent = new RecordingAgent();
  const monitor = new HwmonMonitor({
    hostname: "worker-0",
    read: () => driver.sensors!.read(),
    clock,
    alarms,
    agent,
    auditIntervalMs: 120_000,
    degradeAuditMs: 3_600_000,
    ...extra,
  });
  const set = (name: string, status: "ok" | "nc" | "cr" | "nr" | "na", value: number) => {
    const s = machine.sensors.find((x) => x.name === name)!;
    s.status = status;
    s.value = value;
  };
  return { machine, clock, alarms, agent, monitor, set };
}

test("groups by unit and the reference's status → severity map", (t) => {
  t.deepEqual(["RPM", "% CFM", "degrees C", "Volts", "Watts", "Joules", "discrete"].map(sensorGroupOf), [
    "fan",
    "fan",
    "temperature",
    "voltage",
    "power",
    "power",
    "usage",
  ]);
  t.deepEqual((["ok", "nc", "cr", "nr", "na"] as const).map(severityOf), ["good", "major", "critical", "nonrecoverable", "offline"]);
});

test("debounce: a change counts after two agreeing readings; a lone spike is a transient", (t) => {
  const d = new SensorDebouncer();
  t.like(d.update("critical"), { kind: "transient" });
  t.like(d.update("good"), { kind: "steady" });
  t.like(d.update("critical"), { kind: "transient" });
  t.like(d.update("critical"), { kind: "change", from: "good", to: "critical" });
  t.is(d.severity, "critical");
  t.is(d.transients, 2);
});

test("a critical temperature raises 200.007 critical and degrades the host only after two agreeing audits; ok clears both", async (t) => {
  const { clock, alarms, agent, monitor, set } = setup();
  monitor.start();
  t.teardown(() => monitor.stop());
  await clock.advance(0);
  set("Temp_CPU0", "cr", 97);
  await clock.advance(120_000);
  t.deepEqual(alarms.active(), [], "one reading is a transient");
  t.true(monitor.events.some((e) => /transient good → critical/.test(e.text)));
  await clock.advance(120_000);
  t.deepEqual(
    alarms.active().map((a) => [a.id, a.severity, a.entity]),
    [[SENSOR_ALARM, "critical", "sensor=Temp_CPU0"]],
  );
  t.deepEqual(agent.calls, ["degrade worker-0 raise"]);
  set("Temp_CPU0", "ok", 45);
  await clock.advance(240_000);
  t.deepEqual(alarms.active(), []);
  t.deepEqual(agent.calls, ["degrade worker-0 raise", "degrade worker-0 clear"]);
});

test("per-group actions: fan critical → reset (critical alarm 'resetting' + reset event); voltage major → log only", async (t) => {
  const { clock, alarms, agent, monitor, set } = setup({ actions: { fan: { critical: "reset" } } });
  monitor.start();
  t.teardown(() => monitor.stop());
  set("Fan_1", "cr", 300);
  set("PSU1_Vin", "nc", 250);
  await clock.advance(0);
  await clock.advance(120_000);
  t.deepEqual(agent.calls, ["reset worker-0", "degrade worker-0 raise"]);
  t.deepEqual(
    alarms.active().map((a) => [a.entity, a.severity]),
    [["sensor=Fan_1", "critical"]],
  );
  t.regex(alarms.active()[0]!.text, /'resetting'/);
  t.true(
    monitor.events.some((e) => e.sensor === "PSU1_Vin" && /is major/.test(e.text)),
    "major → log",
  );
});

test("power-cycle action and non-recoverable acting as critical", async (t) => {
  const { clock, agent, monitor, set } = setup({ actions: { temperature: { critical: "power-cycle" } } });
  monitor.start();
  t.teardown(() => monitor.stop());
  set("Temp_CPU0", "nr", 120);
  await clock.advance(0);
  await clock.advance(120_000);
  t.true(agent.calls.includes("power-cycle worker-0"));
});

test("reset and power-cycle actions are refused on an AIO simplex system; bad minor/major actions are refused", (t) => {
  t.throws(() => validateGroupActions("fan", { minor: "ignore", major: "log", critical: "reset" }, "aio-sx"), { message: /not allowed on an AIO simplex/ });
  t.throws(() => validateGroupActions("fan", { minor: "reset", major: "log", critical: "alarm" }, "standard"), { message: /minor action must be/ });
  t.notThrows(() => validateGroupActions("fan", { minor: "ignore", major: "alarm", critical: "power-cycle" }, "aio-dx"));
  const { clock, alarms, agent } = setup();
  t.throws(
    () =>
      new HwmonMonitor({
        hostname: "h",
        read: async () => [],
        clock,
        alarms,
        agent,
        systemType: "aio-sx",
        actions: { temperature: { critical: "power-cycle" } },
      }),
    { message: /temperature: critical action 'power-cycle'/ },
  );
});

test("a failed sensor read raises 200.015 per known group, once; the next good read clears it", async (t) => {
  const { machine, clock, alarms, monitor } = setup();
  monitor.start();
  t.teardown(() => monitor.stop());
  await clock.advance(0);
  machine.unreachable = true;
  await clock.advance(120_000);
  await clock.advance(120_000);
  t.deepEqual(
    alarms
      .active()
      .map((a) => [a.id, a.entity])
      .sort(),
    [
      [SENSOR_GROUP_READ_ALARM, "sensorgroup=fan"],
      [SENSOR_GROUP_READ_ALARM, "sensorgroup=temperature"],
      [SENSOR_GROUP_READ_ALARM, "sensorgroup=voltage"],
    ],
  );
  t.is(alarms.history.filter((h) => h.op === "raise").length, 3, "raised once each despite two failed audits");
  machine.unreachable = false;
  await clock.advance(120_000);
  t.deepEqual(alarms.active(), []);
});

test("per-group intervals: a group is read only when its interval is due", async (t) => {
  const { clock, monitor, set } = setup({ groupIntervalsMs: { fan: 10_000 }, auditIntervalMs: 120_000 });
  monitor.start();
  t.teardown(() => monitor.stop());
  await clock.advance(0);
  set("Fan_1", "cr", 100);
  set("Temp_CPU0", "cr", 100);
  await clock.advance(20_000);
  t.is(monitor.severity("Fan_1"), "critical", "the fan group is audited every 10 s");
  t.is(monitor.severity("Temp_CPU0"), "good", "the temperature group waits for its 120 s");
});

test("the degrade audit re-sends the current degrade state every period", async (t) => {
  const { clock, agent, monitor } = setup({ degradeAuditMs: 30_000 });
  monitor.start();
  t.teardown(() => monitor.stop());
  await clock.advance(90_000);
  t.deepEqual(agent.calls, ["degrade worker-0 clear", "degrade worker-0 clear", "degrade worker-0 clear"]);
});

test("config: hwmon defaults are the reference's (120 s audit, 30 s degrade audit, ignore/log/alarm); AIO-SX refuses a reset default", async (t) => {
  const { defaultConfig } = await import("../src/config/load.js");
  const { hwmonSettings } = await import("../src/hwmon/settings.js");
  t.deepEqual(hwmonSettings(defaultConfig()), {
    auditIntervalMs: 120_000,
    degradeAuditMs: 30_000,
    defaultActions: { minor: "ignore", major: "log", critical: "alarm" },
    systemType: "standard",
  });
  const sx = defaultConfig({ system: { type: "aio-sx" }, hwmon: { actions: { critical: "reset" } } });
  const { clock, alarms, agent } = setup();
  t.throws(() => new HwmonMonitor({ hostname: "h", read: async () => [], clock, alarms, agent, ...hwmonSettings(sx) }), { message: /AIO simplex/ });
  t.throws(() => defaultConfig({ hwmon: { auditInterval: 5 } }));
});
