import { ScaledClock, VirtualClock } from "@metal/core/clock/index";
import { BmcError } from "@metal/core/plugin-api";
import test from "ava";
import { RedfishDriver } from "../src/driver.js";
import { startEmulator } from "./helpers.js";

test("one session serves many calls; close logs out and leaves no session on the BMC", async (t) => {
  const r = await startEmulator();
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  for (let i = 0; i < 20; i++) await d.power.status();
  t.is(d.client.stats.logins, 1);
  t.is(d.client.authMethod, "session");
  t.is(r.emulator.activeSessions(), 1);
  await d.close();
  t.is(d.client.stats.logouts, 1);
  t.is(r.emulator.activeSessions(), 0);
  await d.close();
  t.is(d.client.stats.logouts, 1, "a second close does not log out again");
});

test("auto auth falls back to basic when the session slots are exhausted (RAC0218)", async (t) => {
  const r = await startEmulator({ faults: { sessionCap: 0 } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  t.is(await d.power.status(), "off");
  t.is(d.client.authMethod, "basic");
  t.true(
    r.emulator.requestLog.some((e) => e.method === "POST" && e.status === 503),
    "the session login really was refused",
  );
});

test("a BMC without SessionService is spoken to with basic auth; auth=session refuses clearly", async (t) => {
  const r = await startEmulator({ quirks: { noSessions: true } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  t.is(await d.power.status(), "off");
  t.is(d.client.authMethod, "basic");
  const strict = r.driver(undefined, { auth: "session" });
  const err = await t.throwsAsync(strict.power.status());
  t.is((err as BmcError).code, "unsupported");
  await strict.close();
});

test("a 401 after the BMC flushed its sessions triggers one re-login and the call succeeds", async (t) => {
  const r = await startEmulator();
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  await d.power.status();
  r.emulator.setFaults({ unauthorizedNext: 1 });
  t.is(await d.power.status(), "off");
  t.is(d.client.stats.reauths, 1);
  t.is(d.client.stats.logins, 2);
});

test("SessionTimeout is honoured: an idle session is renewed before use, without a 401", async (t) => {
  const r = await startEmulator({ faults: { sessionTimeoutS: 60 } });
  t.teardown(() => r.emulator.close());
  const clock = new VirtualClock();
  const d = r.driver(undefined, {}, clock);
  t.teardown(() => d.close());
  await d.power.status();
  await clock.advance(30_000);
  await d.power.status();
  t.is(d.client.stats.logins, 1, "still inside the timeout: same session");
  await clock.advance(58_000);
  await d.power.status();
  t.is(d.client.stats.logins, 2, "past 90% of SessionTimeout idle: a new session");
  t.is(d.client.stats.reauths, 0);
  t.false(r.emulator.requestLog.some((e) => e.status === 401));
});

test("wrong password: an auth error with a one-line reason, and no session is left", async (t) => {
  const r = await startEmulator();
  t.teardown(() => r.emulator.close());
  const d = r.driver("nope");
  const err = await t.throwsAsync(d.info.get());
  t.true(err instanceof BmcError);
  t.is((err as BmcError).code, "auth");
  t.false(err!.message.includes("\n"));
  t.false(err!.message.includes("nope"), "the password is not in the message");
  await d.close();
  t.is(r.emulator.activeSessions(), 0);
});

test("an unreachable BMC is 'unreachable' after bounded retries", async (t) => {
  const r = await startEmulator();
  const port = r.port;
  await r.emulator.close();
  const d = r.driver(undefined, { httpRetries: 2 });
  const err = await t.throwsAsync(d.power.status());
  t.is((err as BmcError).code, "unreachable");
  t.regex(err!.message, new RegExp(`127.0.0.1:${port}`));
  await d.close();
});

test("409 'already in that state' counts as success only after a confirming read", async (t) => {
  const r = await startEmulator({ faults: { conflictOnSameState: true } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  await d.power.set("on");
  await d.power.set("on");
  t.is(await d.power.status(), "on");
  t.true(r.emulator.requestLog.some((e) => e.status === 409));
  t.deepEqual(r.emulator.machine.resets, ["On", "On"]);
});

test("503 while the system is powering is retried with backoff until the action is accepted", async (t) => {
  const r = await startEmulator({ faults: { poweringMs: 1_500 } });
  t.teardown(() => r.emulator.close());
  const d = r.driver(undefined, { httpRetries: 8 });
  t.teardown(() => d.close());
  await d.power.status();
  r.emulator.machine.reset("On");
  t.is(r.emulator.machine.power, "PoweringOn");
  await d.power.set("off");
  t.is(await d.power.status(), "off");
  t.true(
    r.emulator.requestLog.some((e) => e.status === 503),
    "the BMC really said 503 first",
  );
});

test("graceful first, forced after half the retries, when the OS ignores the graceful request", async (t) => {
  const r = await startEmulator({ faults: { gracefulIgnored: true } });
  t.teardown(() => r.emulator.close());
  const d = r.driver(undefined, { powerRetries: 4, powerVerifyMs: 200 });
  t.teardown(() => d.close());
  r.emulator.machine.reset("On");
  await d.power.set("off");
  t.is(await d.power.status(), "off");
  t.deepEqual(r.emulator.machine.resets, ["On", "GracefulShutdown", "GracefulShutdown", "ForceOff"]);
});

test("graceful-off that the OS ignores is a timeout error, not a silent success", async (t) => {
  const r = await startEmulator({ faults: { gracefulIgnored: true } });
  t.teardown(() => r.emulator.close());
  const d = r.driver(undefined, { powerRetries: 2, powerVerifyMs: 100 });
  t.teardown(() => d.close());
  r.emulator.machine.reset("On");
  const err = await t.throwsAsync(d.power.set("graceful-off"));
  t.is((err as BmcError).code, "timeout");
  t.false(r.emulator.machine.resets.includes("ForceOff"));
});

// Issue 14 item 5: the caller's bound (target.timeoutMs, 30 s as the CLI's default) holds the whole escalation. Time runs
// x10 (ScaledClock), so the 20 s graceful verify of a real BMC is kept and the checks are on the driver's own timeline.
const bounded = async (faults: Record<string, unknown>) => {
  const r = await startEmulator({ faults });
  const clock = new ScaledClock(10);
  const d = new RedfishDriver({ ...r.target(undefined, { powerVerifyMs: 20_000, pollMs: 500 }), timeoutMs: 30_000 }, clock);
  r.emulator.machine.reset("On");
  return { r, d };
};

test("an OS that ignores the graceful shutdown: ForceOff within the caller's 30 s, after graceful had its half; off read back", async (t) => {
  const { r, d } = await bounded({ gracefulIgnored: true });
  t.teardown(() => r.emulator.close());
  t.teardown(() => d.close());
  const report = await d.power.set("off");
  t.deepEqual(
    report.sent.map((x) => x.request),
    ["GracefulShutdown", "ForceOff"],
  );
  const [graceful, forced] = report.sent.map((x) => x.atMs) as [number, number];
  t.true(forced - graceful >= (27_000 - graceful) / 2, `graceful had half of what was left of the bound: ${graceful} → ${forced} ms`);
  t.is(report.readBack, "off");
  t.deepEqual(r.emulator.machine.resets, ["On", "GracefulShutdown", "ForceOff"]);
});

test("a host still On when the bound runs out: a timeout that says what was read back and what was sent when", async (t) => {
  const { r, d } = await bounded({ gracefulIgnored: true, powerStateAs: "On" });
  t.teardown(() => r.emulator.close());
  t.teardown(() => d.close());
  const err = await t.throwsAsync(d.power.set("off"));
  t.is((err as BmcError).code, "timeout");
  t.regex((err as Error).message, /^power off: still on after [\d.]+ s \(GracefulShutdown sent at [\d.]+ s, ForceOff sent at [\d.]+ s\)$/);
  const after = Number(/after ([\d.]+) s/.exec((err as Error).message)?.[1]);
  t.true(after <= 30, `within the caller's 30 s (${after} s)`);
  t.true(r.emulator.machine.resets.includes("ForceOff"), "ForceOff really went out");
});

test("graceful-off has no forced variant: running out says so", async (t) => {
  const { r, d } = await bounded({ gracefulIgnored: true });
  t.teardown(() => r.emulator.close());
  t.teardown(() => d.close());
  const err = await t.throwsAsync(d.power.set("graceful-off"));
  t.is((err as BmcError).code, "timeout");
  t.regex((err as Error).message, /^power graceful-off: still on after [\d.]+ s \(GracefulShutdown sent at [\d.]+ s(, GracefulShutdown sent at [\d.]+ s)*\)$/);
  t.false(r.emulator.machine.resets.includes("ForceOff"));
});

test("reset types published through @Redfish.ActionInfo; only what the BMC allows is used", async (t) => {
  const r = await startEmulator({ resetTypes: ["On", "ForceOff", "ForceRestart"], quirks: { resetActionInfo: true } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  await d.power.set("on");
  await d.power.set("reset");
  await d.power.set("cycle");
  await d.power.set("off");
  t.deepEqual(r.emulator.machine.resets, ["On", "ForceRestart", "ForceOff", "On", "ForceOff"]);
});

for (const [quirk, name] of [
  ["bootModeRequired", "Supermicro: BootSourceOverrideMode echoed back"],
  ["bootModeReadOnly", "HPE: read-only BootSourceOverrideMode dropped on 400"],
  ["noBootMode", "X10: no BootSourceOverrideMode property"],
] as const) {
  test(`boot override quirk ${name}`, async (t) => {
    const r = await startEmulator({ quirks: { [quirk]: true } });
    t.teardown(() => r.emulator.close());
    const d = r.driver();
    t.teardown(() => d.close());
    await d.bootDevice.set("pxe");
    t.like(r.emulator.machine.boot, { enabled: "Once", target: "Pxe" });
    await d.bootDevice.set("cd", { persistent: true, mode: "legacy" });
    t.like(r.emulator.machine.boot, { enabled: "Continuous", target: "Cd" });
    if (quirk === "bootModeRequired") t.is(r.emulator.machine.boot.mode, "Legacy");
    if (quirk === "bootModeReadOnly") t.is(r.emulator.machine.boot.mode, "UEFI");
  });
}

test("boot override quirk AMI: PATCH goes to the @Redfish.Settings object, applied at the next power-on", async (t) => {
  const r = await startEmulator({ quirks: { bootSettingsObject: true } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  await d.bootDevice.set("pxe", { mode: "uefi" });
  t.is(r.emulator.machine.boot.target, "None", "not applied before boot");
  await d.power.set("on");
  t.like(r.emulator.machine.boot, { enabled: "Once", target: "Pxe", mode: "UEFI" });
});

test("a boot target the BMC does not offer is 'unsupported'", async (t) => {
  const r = await startEmulator({ bootTargets: ["None", "Hdd"] });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  const err = await t.throwsAsync(d.bootDevice.set("pxe"));
  t.is((err as BmcError).code, "unsupported");
});

test("virtual media under the System (iDRAC 6) with a slow BMC: insert and eject are polled to completion", async (t) => {
  const r = await startEmulator({ quirks: { virtualMediaUnderSystem: true }, faults: { mediaDelayMs: 300 } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  await d.virtualMedia.insert("http://127.0.0.1:8080/a.iso");
  t.deepEqual(await d.virtualMedia.status(), { inserted: true, image: "http://127.0.0.1:8080/a.iso" });
  await d.virtualMedia.insert("http://127.0.0.1:8080/a.iso");
  const err = await t.throwsAsync(d.virtualMedia.insert("http://127.0.0.1:8080/b.iso"));
  t.is((err as BmcError).code, "conflict");
  await d.virtualMedia.eject();
  t.false((await d.virtualMedia.status()).inserted);
});

test("sensors from Thermal, Power and the Sensors collection, health mapped to severities", async (t) => {
  const r = await startEmulator();
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  const cpu = r.emulator.machine.sensors.find((s) => s.name === "CPU1 Temp")!;
  cpu.reading = 97;
  cpu.health = "Critical";
  r.emulator.machine.sensors.find((s) => s.name === "Fan2")!.health = "Absent";
  const readings = await d.sensors.read();
  const by = new Map(readings.map((x) => [x.name, x]));
  t.deepEqual(by.get("CPU1 Temp"), {
    name: "CPU1 Temp",
    value: 97,
    unit: "degrees C",
    status: "cr",
    thresholds: { upperNonCritical: 85, upperCritical: 95, upperNonRecoverable: 100 },
  });
  t.like(by.get("Fan1"), { value: 5880, unit: "RPM", status: "ok", thresholds: { lowerCritical: 600 } });
  t.like(by.get("Fan2"), { status: "na" });
  t.like(by.get("PS1 Voltage"), { value: 230, unit: "Volts", status: "ok" });
  t.like(by.get("System Power"), { value: 182, unit: "Watts" });
  t.is(readings.length, 6);
});

test("info: manufacturer, model, serial, BMC firmware, power state", async (t) => {
  const r = await startEmulator();
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  const info = await d.info.get();
  t.like(info, { manufacturer: "Metal Emulated Systems", model: "RF-1000", serial: "EMU0001", firmwareVersion: "5.10.00", powerState: "off" });
  t.like(info.extra, { biosVersion: "2.4.1", partNumber: "PN-RF-1000", authMethod: "session" });
});

test("the emulator expires idle sessions after SessionTimeout; the client still gets through (renewal or 401 re-login)", async (t) => {
  const r = await startEmulator({ faults: { sessionTimeoutS: 1 } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  await d.power.status();
  t.is(r.emulator.activeSessions(), 1);
  await new Promise((res) => setTimeout(res, 1_300));
  t.is(r.emulator.activeSessions(), 0, "idle longer than SessionTimeout: the BMC dropped it");
  t.is(await d.power.status(), "off");
  t.is(d.client.stats.logins, 2);
});
