import { readFileSync } from "node:fs";
import { DynamicBmcDriver } from "@metal/core/bmc/dynamic";
import { SystemClock } from "@metal/core/clock/index";
import { DefaultBmcRegistry } from "@metal/core/di/bmc-registry";
import { secretFromString } from "@metal/core/di/secret";
import type { BmcError, BmcTarget } from "@metal/core/plugin-api";
import { infoIsDescribed } from "@metal/core/testing";
import test from "ava";
import { RedfishEmulator } from "../src/emulator/server.js";
import { selfSignedCert } from "../src/emulator/test-cert.js";
import { redfishFactory } from "../src/factory.js";
import { powerStateOf } from "../src/power.js";
import { parsePower, parseSensor } from "../src/sensors.js";
import { jsonFixture } from "./fixture.js";
import { startEmulator } from "./helpers.js";

test("item 1: Thermal answering 500 (or 404) costs only its readings; the failed resource is named", async (t) => {
  const r = await startEmulator({ faults: { failing: { "Chassis/1/Thermal": 500 } } });
  t.teardown(() => r.emulator.close());
  const d = r.driver(undefined, { httpRetries: 1 });
  t.teardown(() => d.close());
  const readings = await d.sensors.read();
  const names = readings.map((x) => x.name);
  t.true(names.includes("PS1 Voltage") && names.includes("System Power"), "Power still answered");
  t.true(names.includes("CPU1 Temp"), "the temperature still comes from the Sensors collection");
  t.deepEqual(
    readings.failed?.map((f) => [f.resource, f.code]),
    [["/redfish/v1/Chassis/1/Thermal", "protocol"]],
  );
  r.emulator.setFaults({ failing: { "Chassis/1/Thermal": 404, "Chassis/1/Sensors": 404 } });
  const fewer = await d.sensors.read();
  t.deepEqual(
    fewer.map((x) => x.name),
    ["PS1 Voltage", "System Power"],
  );
  t.is(fewer.failed?.length, 2);
  r.emulator.setFaults({ failing: { "Chassis/1/Thermal": 500, "Chassis/1/Sensors": 500, "Chassis/1/Power": 500 } });
  t.is(((await t.throwsAsync(d.sensors.read())) as BmcError).code, "protocol", "nothing answered: an error");
});

test("item 3: every schema PowerState maps; null is polled past, not an error", async (t) => {
  t.deepEqual(["On", "Off", "PoweringOn", "PoweringOff", "Paused"].map(powerStateOf), ["on", "off", "off", "on", "on"]);
  t.is(powerStateOf(null), "unknown");
  t.is(powerStateOf("Sleeping"), undefined);
  const r = await startEmulator({ faults: { powerStateAs: "Paused" } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  t.is(await d.power.status(), "on");
  r.emulator.setFaults({ powerStateAs: "null" });
  const pending = d.power.status();
  await new Promise((res) => setTimeout(res, 200));
  r.emulator.setFaults({ powerStateAs: "" });
  t.is(await pending, "off", "a null PowerState is read again until the BMC knows");
  r.emulator.setFaults({ powerStateAs: "null" });
  const quick = r.driver(undefined, { powerVerifyMs: 200 });
  t.teardown(() => quick.close());
  t.is(((await t.throwsAsync(quick.power.status())) as BmcError).code, "busy", "still unknown after the bound: busy, retryable");
});

test("item 4: info with a Manager answering 404 returns the System's identity and marks the Manager missing", async (t) => {
  const r = await startEmulator({ faults: { failing: { "Managers/1": 404 } } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  const info = await d.info.get();
  t.like(info, { manufacturer: "Metal Emulated Systems", model: "RF-1000", serial: "EMU0001", firmwareVersion: "2.4.1", powerState: "off" });
  t.regex(info.extra?.manager ?? "", /missing/);
});

test("item 5: dynamic against an https BMC with an untrusted certificate says TLS failed and how to pass --ca or --insecure", async (t) => {
  const { cert, key } = selfSignedCert();
  const emulator = new RedfishEmulator();
  const { port } = await emulator.listen({ port: 0, tls: { cert: readFileSync(cert), key: readFileSync(key) } });
  t.teardown(() => emulator.close());
  const registry = new DefaultBmcRegistry();
  registry.register(redfishFactory({ clock: new SystemClock() }), "@metal/plugin-redfish");
  const target = (extra: Partial<BmcTarget>): BmcTarget => ({
    host: "worker-0",
    address: "127.0.0.1",
    port,
    username: "root",
    password: secretFromString("calvin"),
    timeoutMs: 5_000,
    options: { httpRetries: 1 },
    ...extra,
  });
  const strict = new DynamicBmcDriver(registry, target({}));
  t.teardown(() => strict.close());
  const err = (await t.throwsAsync(strict.power.status())) as BmcError;
  t.is(err.code, "protocol");
  t.regex(err.message, /TLS verification failed/);
  t.regex(err.message, /--ca/);
  t.regex(err.message, /--insecure/);
  const withCa = new DynamicBmcDriver(registry, target({ caFile: cert }));
  t.teardown(() => withCa.close());
  t.is(await withCa.power.status(), "off");
  t.is(withCa.learned?.protocol, "redfish");
});

test("item 6: units come from the schema ('%' stays '%'), a reading without Status is judged by its thresholds", (t) => {
  t.like(parseSensor(jsonFixture("sensor-humidity-percent.json")), { name: "Inlet Humidity", value: 34, unit: "%", status: "ok" });
  t.like(parseSensor({ Name: "Fan3", Reading: 40, ReadingUnits: "%", ReadingType: "Rotational", Status: { State: "Enabled", Health: "OK" } }), {
    unit: "% RPM",
  });
  const byName = new Map(parsePower(jsonFixture("power-no-status.json")).map((x) => [x.name, x]));
  t.like(byName.get("System Power Control"), { value: 344, unit: "Watts", status: "ok" });
  t.like(byName.get("VRM1 Voltage"), { value: 12.1, status: "ok" });
  t.like(byName.get("VRM2 Voltage"), { value: 13.2, status: "cr" });
  t.like(byName.get("VRM3 Voltage"), { value: null, status: "na" });
});

test("item 7: the conformance suite accepts a BMC without Model (optional in Redfish)", async (t) => {
  const r = await startEmulator({ model: "" });
  t.teardown(() => r.emulator.close());
  const sys = await (
    await fetch(`http://127.0.0.1:${r.port}/redfish/v1/Systems/1`, { headers: { Authorization: `Basic ${Buffer.from("root:calvin").toString("base64")}` } })
  ).json();
  t.false("Model" in (sys as object), "the emulated System really has no Model");
  await infoIsDescribed(t, { name: "redfish@no-model", capabilities: ["info"], connect: () => r.driver() });
});
