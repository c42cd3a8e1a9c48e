import { SystemClock } from "@metal/core/clock/index";
import { secretFromString } from "@metal/core/di/secret";
import type { BmcError, BmcTarget } from "@metal/core/plugin-api";
import test from "ava";
import { classifyIpmitoolFailure } from "../src/classify.js";
import { IpmiDriver } from "../src/driver.js";
import { MAX_PARSE_ERRORS, parseInfo, parseSensorList } from "../src/parse.js";
import { fixture, runs, scriptedIpmitool } from "./fixture.js";

/** A driver whose ipmitool is a script; nothing listens at the address. */
function scriptedDriver(tool: string, options: BmcTarget["options"] = {}): IpmiDriver {
  const target: BmcTarget = {
    host: "worker-0",
    address: "127.0.0.1",
    port: 9,
    username: "operator1",
    password: secretFromString("fixture-password"),
    timeoutMs: 5_000,
    options: { ipmitool: tool, minIntervalMs: 0, backoffMs: 10, retries: 3, ...options },
  };
  return new IpmiDriver(target, new SystemClock());
}

test("item 8: FRU fields indented by one space (real `fru print` layout) are read", (t) => {
  const info = parseInfo("Firmware Revision : 1.0\n", fixture("fru-indented.txt"));
  t.like(info, { manufacturer: "ACME", model: "X1", serial: "S123" });
});

test("item 9: a refused session privilege and a refused command are permission errors naming the level", async (t) => {
  t.deepEqual(classifyIpmitoolFailure(fixture("privilege-session.txt"), ["chassis", "power", "status"]), { kind: "permission", privilege: "ADMINISTRATOR" });
  t.deepEqual(classifyIpmitoolFailure(fixture("privilege-command.txt"), ["chassis", "power", "off"]), { kind: "permission", privilege: "OPERATOR" });

  const session = scriptedIpmitool([{ err: fixture("privilege-session.txt") }]);
  const d = scriptedDriver(session.path);
  t.teardown(() => d.close());
  const err = (await t.throwsAsync(d.power.status())) as BmcError;
  t.is(err.code, "permission");
  t.regex(err.message, /ADMINISTRATOR/);
  t.is(runs(session.log), 1, "a permission error is not retried");

  const command = scriptedIpmitool([{ err: fixture("privilege-command.txt") }]);
  const c = scriptedDriver(command.path);
  t.teardown(() => c.close());
  const err2 = (await t.throwsAsync(c.power.set("off"))) as BmcError;
  t.is(err2.code, "permission");
  t.regex(err2.message, /needs OPERATOR privilege/);
});

test("item 10: 'insufficient resources for session' at session setup is busy and retried, not unreachable", async (t) => {
  t.deepEqual(classifyIpmitoolFailure(fixture("busy-session.txt"), ["chassis", "power", "status"]), { kind: "busy" });
  const tool = scriptedIpmitool([{ err: fixture("busy-session.txt") }, { err: fixture("busy-session.txt") }, { out: "Chassis Power is on\n" }]);
  const d = scriptedDriver(tool.path);
  t.teardown(() => d.close());
  t.is(await d.power.status(), "on");
  t.is(runs(tool.log), 3);
  t.is(d.tool.stats.retries, 2);

  const always = scriptedIpmitool([{ err: fixture("busy-session.txt") }]);
  const b = scriptedDriver(always.path, { retries: 1 });
  t.teardown(() => b.close());
  const err = (await t.throwsAsync(b.power.status())) as BmcError;
  t.is(err.code, "busy");
  t.regex(err.message, /insufficient resources for session/);
});

test("item 11: comment lines are skipped, the parse-error limit is the reference's 20, discrete and na sensors read as na", async (t) => {
  t.is(MAX_PARSE_ERRORS, 20);
  const text = fixture("sensor-list-15-malformed.txt");
  const { readings, errors } = parseSensorList(text);
  t.is(errors, 15, "the two comment lines are not errors");
  const byName = new Map(readings.map((r) => [r.name, r]));
  t.deepEqual(byName.get("PS1_Status"), { name: "PS1_Status", value: null, unit: "discrete", status: "na" });
  t.like(byName.get("Temp_Absent"), { value: null, status: "na" });
  t.like(byName.get("Temp_CPU0"), { value: 42, status: "ok" });

  const ok = scriptedIpmitool([{ out: text }]);
  const d = scriptedDriver(ok.path);
  t.teardown(() => d.close());
  t.is((await d.sensors.read()).length, 3, "15 malformed lines are within the limit");
  const worse = scriptedIpmitool([{ out: `${text}${"x|y\n".repeat(6)}` }]);
  const w = scriptedDriver(worse.path);
  t.teardown(() => w.close());
  t.is(((await t.throwsAsync(w.sensors.read())) as BmcError).code, "protocol", "21 malformed lines are over it");
});
