import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SystemClock } from "@metal/core/clock/index";
import type { BmcError } from "@metal/core/plugin-api";
import test from "ava";
import { IpmiDriver } from "../src/driver.js";
import { IpmiSim } from "../src/testing/ipmi-sim.js";
import { simDriver, simTarget } from "./helpers.js";

let sim: IpmiSim;
test.before(async () => {
  sim = await IpmiSim.start({
    sensors: [
      { name: "Temp_CPU0", kind: "temperature", raw: 42, thresholds: { unc: 85, ucr: 95, unr: 100 } },
      { name: "Fan_1", kind: "fan", raw: 112, thresholds: { lnr: 5, lcr: 10, lnc: 20 } },
      // Two records with one name (as some BMCs publish): the worse status wins.
      { name: "Temp_DIMM", kind: "temperature", raw: 40, thresholds: { unc: 70, ucr: 80 } },
      { name: "Temp_DIMM", kind: "temperature", raw: 75, thresholds: { unc: 70, ucr: 80 } },
      // A discrete sensor (power-supply presence) and one whose scanning is off: ipmitool shows state words and `na`.
      { name: "PS1_Status", kind: "discrete", raw: 0 },
      { name: "Temp_Absent", kind: "temperature", raw: 30, noReading: true, thresholds: { ucr: 95 } },
    ],
    users: [{ name: "viewer", password: "viewer-pw", privilege: "user" }],
    sensorPollMs: 100,
  });
});
test.after.always(() => sim.stop());

test.serial("sensor list: 10 columns parsed, thresholds kept, duplicates merged by severity, live changes seen", async (t) => {
  const d = simDriver(sim);
  t.teardown(() => d.close());
  const first = new Map((await d.sensors.read()).map((r) => [r.name, r]));
  t.deepEqual(first.get("Temp_CPU0"), {
    name: "Temp_CPU0",
    value: 42,
    unit: "degrees C",
    status: "ok",
    thresholds: { upperNonCritical: 85, upperCritical: 95, upperNonRecoverable: 100 },
  });
  t.like(first.get("Fan_1"), { value: 5600, unit: "RPM", status: "ok", thresholds: { lowerNonRecoverable: 250, lowerCritical: 500, lowerNonCritical: 1000 } });
  t.like(first.get("Temp_DIMM"), { value: 75, status: "nc" });
  t.is(first.size, 5);
  t.deepEqual(first.get("PS1_Status"), { name: "PS1_Status", value: null, unit: "discrete", status: "na" });
  t.like(first.get("Temp_Absent"), { value: null, status: "na" });
  sim.setSensorRaw("Temp_CPU0", 97);
  sim.setSensorRaw("Fan_1", 8);
  let cpu = first.get("Temp_CPU0");
  let fan = first.get("Fan_1");
  for (let i = 0; i < 30 && (cpu?.status !== "cr" || fan?.status !== "cr"); i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = new Map((await d.sensors.read()).map((r) => [r.name, r]));
    cpu = now.get("Temp_CPU0");
    fan = now.get("Fan_1");
  }
  t.like(cpu, { value: 97, status: "cr" });
  t.like(fan, { value: 400, status: "cr" });
});

test.serial("info: mc info parsed (manufacturer, firmware), product and serial from the indented `fru print` fields", async (t) => {
  const d = simDriver(sim);
  t.teardown(() => d.close());
  const info = await d.info.get();
  t.like(info, { manufacturer: "MontaVista Software, Inc.", firmwareVersion: "9.08", model: "X1", serial: "S123" });
  t.true(info.powerState === "on" || info.powerState === "off");
  t.like(info.extra, { manufacturerId: "4753" });
});

test.serial("the password is never on ipmitool's command line; -E (environment) works as well as -f", async (t) => {
  const d = simDriver(sim, undefined, { passwordVia: "env" });
  t.teardown(() => d.close());
  const line = d.tool.commandLine(["chassis", "power", "status"]);
  t.false(line.args.includes(sim.password));
  t.true(line.args.includes("-E"));
  t.is(line.env.IPMI_PASSWORD, sim.password);
  t.true(["on", "off"].includes(await d.power.status()));
  const f = simDriver(sim);
  t.teardown(() => f.close());
  const fl = f.tool.commandLine(["chassis", "power", "status"]);
  t.false(fl.args.join(" ").includes(sim.password));
  const pwFile = fl.args[fl.args.indexOf("-f") + 1]!;
  t.is(readFileSync(pwFile, "utf8"), sim.password);
  t.is(statSync(pwFile).mode & 0o777, 0o600);
  await f.close();
  t.throws(() => readFileSync(pwFile), undefined, "the password file is removed on close");
});

test.serial("cipher-suite fallback: 17 is refused by ipmi_sim, 3 opens the session and is kept", async (t) => {
  const d = simDriver(sim, undefined, { cipherSuites: "17,3" });
  t.teardown(() => d.close());
  t.true(["on", "off"].includes(await d.power.status()));
  t.true(d.tool.commandLine([]).args.join(" ").includes("-C 3"));
});

test.serial("privilege option (-L OPERATOR) is passed and accepted", async (t) => {
  const d = simDriver(sim, undefined, { privilege: "operator" });
  t.teardown(() => d.close());
  t.true(d.tool.commandLine([]).args.join(" ").includes("-L OPERATOR"));
  t.true(["on", "off"].includes(await d.power.status()));
});

test.serial("a BMC that stops answering: the call is bounded by the timeout and the child is killed", async (t) => {
  sim.pause();
  t.teardown(() => sim.resume());
  const fast = simDriver(sim, undefined, { ipmitoolRetries: 10, ipmitoolIntervalS: 5, retries: 0 }, 1_500);
  const t0 = Date.now();
  const err = await t.throwsAsync(fast.power.status());
  t.is((err as BmcError).code, "timeout");
  t.true(Date.now() - t0 < 9_000, "ipmitool's own 50 s of retries were cut short");
  await fast.close();
});

test("an address where no BMC listens is 'unreachable' with a one-line reason", async (t) => {
  const dead = new IpmiDriver({ ...simTarget(sim), port: 9 }, new SystemClock());
  const err = await t.throwsAsync(dead.power.status());
  t.is((err as BmcError).code, "unreachable");
  t.false(err!.message.includes("\n"));
  await dead.close();
});

/** A stand-in ipmitool that answers "insufficient resources" twice, then succeeds, logging each run. */
function flakyIpmitool(): { path: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), "metal-fakeipmitool-"));
  const path = join(dir, "ipmitool");
  const log = join(dir, "log");
  writeFileSync(
    path,
    `#!/bin/sh
echo start >> "${log}"
n=$(grep -c start "${log}")
sleep 0.05
echo end >> "${log}"
if [ "$n" -le 2 ]; then echo "Error in open session response message : insufficient resources for session" >&2; exit 1; fi
echo "Chassis Power is on"
`,
  );
  chmodSync(path, 0o755);
  return { path, log };
}

test("retryable errors (insufficient resources for session) are retried with backoff", async (t) => {
  const fake = flakyIpmitool();
  const d = simDriver(sim, undefined, { ipmitool: fake.path, retries: 3, backoffMs: 10 });
  t.teardown(() => d.close());
  t.is(await d.power.status(), "on");
  t.is(d.tool.stats.retries, 2);
});

test("commands to one BMC are serialized across drivers, with the minimum interval between them", async (t) => {
  const fake = flakyIpmitool();
  writeFileSync(fake.log, "start\nend\nstart\nend\n"); // skip the flaky phase
  const target = { ...simTarget(sim), address: "127.0.0.77", options: { ipmitool: fake.path, minIntervalMs: 20 } };
  const a = new IpmiDriver(target, new SystemClock());
  const b = new IpmiDriver(target, new SystemClock());
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await Promise.all([...Array.from({ length: 4 }, () => a.power.status()), ...Array.from({ length: 4 }, () => b.power.status())]);
  const lines = readFileSync(fake.log, "utf8").trim().split("\n").slice(4);
  t.is(lines.length, 16);
  t.deepEqual(
    lines,
    Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? "start" : "end")),
    "no two runs overlapped",
  );
});

test.serial("a user-privilege account: chassis power off is a permission error that names OPERATOR (real ipmitool)", async (t) => {
  const d = new IpmiDriver({ ...simTarget(sim, "viewer-pw", { privilege: "user" }), username: "viewer" }, new SystemClock());
  t.teardown(() => d.close());
  t.true(["on", "off"].includes(await d.power.status()), "reads are allowed");
  const err = (await t.throwsAsync(d.power.set("off"))) as BmcError;
  t.is(err.code, "permission");
  t.regex(err.message, /OPERATOR/);
});
