import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PtyPair } from "@metal/core/testing";
import { IpmiSim } from "@metal/plugin-ipmi/testing/ipmi-sim";
import { RedfishEmulator } from "@metal/plugin-redfish";
import test from "ava";
import { execa } from "execa";

/**
 * The stable BMC CLI, driven as a script would: `metal bmc power|info|sensors|learn` against the Redfish
 * emulator and OpenIPMI's ipmi_sim, the failures (wrong password, no BMC) as one line and a non-zero exit.
 */
const main = fileURLToPath(new URL("../../packages/core/dist/src/cli/main.js", import.meta.url));
const metal = (...args: string[]) => execa(process.execPath, [main, ...args], { reject: false, timeout: 90_000 });

const dir = mkdtempSync(join(tmpdir(), "metal-bmccli-"));
const pw = (name: string, value: string, mode = 0o600) => {
  const f = join(dir, name);
  writeFileSync(f, `${value}\n`, { mode });
  return f;
};

let rf: RedfishEmulator;
let rfPort: number;
let sim: IpmiSim;
test.before(async () => {
  rf = new RedfishEmulator();
  rfPort = (await rf.listen({ port: 0 })).port;
  sim = await IpmiSim.start();
});
test.after.always(async () => {
  await rf.close();
  await sim.stop();
});

const redfishArgs = () => ["--bmc", `127.0.0.1:${rfPort}`, "--user", "root", "--password-file", pw("rf", "calvin"), "--scheme", "http"];
const ipmiArgs = () => ["--bmc", `127.0.0.1:${sim.port}`, "--user", "admin", "--password-file", pw("ipmi", "secret"), "--protocol", "ipmi"];

test.serial("redfish: power on, status, info and sensors (JSON), learn says redfish and why; no session left", async (t) => {
  const on = await metal("bmc", "power", "on", ...redfishArgs(), "--protocol", "redfish");
  t.is(on.exitCode, 0, on.stderr);
  t.regex(on.stdout.trim(), /^power on: on \(read back\) after [\d.]+ s/);
  const st = await metal("bmc", "power", "status", ...redfishArgs(), "--json");
  t.is(st.exitCode, 0, st.stderr);
  t.like(JSON.parse(st.stdout), { protocol: "redfish", power: "on" });
  const info = await metal("bmc", "info", ...redfishArgs(), "--json");
  t.like(JSON.parse(info.stdout), {
    manufacturer: "Metal Emulated Systems",
    model: "RF-1000",
    serial: "EMU0001",
    firmwareVersion: "5.10.00",
    powerState: "on",
  });
  const sensors = await metal("bmc", "sensors", ...redfishArgs(), "--json");
  const list = JSON.parse(sensors.stdout) as Array<{ name: string; status: string; unit: string }>;
  t.like(
    list.find((s) => s.name === "CPU1 Temp"),
    { status: "ok", unit: "degrees C" },
  );
  const learn = await metal("bmc", "learn", ...redfishArgs());
  t.is(learn.exitCode, 0);
  t.regex(learn.stdout.trim(), /^redfish: http:\/\/127\.0\.0\.1:\d+\/redfish\/v1\/ answered RedfishVersion 1\.11\.0$/);
  t.is(rf.activeSessions(), 0);
});

test.serial("ipmi: power on/status through ipmitool, sensors table; learn says ipmi and why", async (t) => {
  t.is((await metal("bmc", "power", "on", ...ipmiArgs())).exitCode, 0);
  const st = await metal("bmc", "power", "status", ...ipmiArgs());
  t.is(st.stdout.trim(), "on");
  const sensors = await metal("bmc", "sensors", ...ipmiArgs());
  t.regex(sensors.stdout, /^name\s+reading\s+unit\s+st\s+lnr/);
  t.regex(sensors.stdout, /Temp_CPU0\s+42 degrees C\s+ok/);
  const learn = await metal("bmc", "learn", "--bmc", `127.0.0.1:${sim.port}`, "--user", "admin", "--password-file", pw("ipmi", "secret"), "--scheme", "http");
  t.regex(learn.stdout.trim(), /^ipmi: no Redfish service at .* defaulting to ipmi$/);
});

test.serial("wrong password: exit 1 with a one-line reason, within the timeout, for both protocols", async (t) => {
  for (const args of [
    ["--bmc", `127.0.0.1:${rfPort}`, "--user", "root", "--password-file", pw("bad", "nope"), "--scheme", "http", "--protocol", "redfish"],
    ["--bmc", `127.0.0.1:${sim.port}`, "--user", "admin", "--password-file", pw("bad", "nope"), "--protocol", "ipmi"],
  ]) {
    const r = await metal("bmc", "power", "status", ...args, "--timeout", "20");
    t.is(r.exitCode, 1);
    t.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    t.regex(r.stderr.trim(), /^metal: power status: auth: BMC .* rejected the credentials/);
    t.false(r.stderr.includes("nope"));
  }
});

test.serial("no BMC at the address: exit 1 with a one-line reason, bounded by --timeout", async (t) => {
  const r = await metal(
    "bmc",
    "power",
    "status",
    "--bmc",
    "127.0.0.1:9",
    "--user",
    "u",
    "--password-file",
    pw("x", "y"),
    "--protocol",
    "ipmi",
    "--timeout",
    "8",
  );
  t.is(r.exitCode, 1);
  t.regex(r.stderr.trim(), /^metal: power status: (unreachable|timeout): /);
  t.is(r.stderr.trim().split("\n").length, 1);
});

test.serial("bad input exits 2: malformed --bmc, an unknown action, a world-readable password file", async (t) => {
  const bad = await metal("bmc", "power", "status", "--bmc", "1.2.3.4:99999", "--user", "u", "--password-file", pw("x", "y"));
  t.is(bad.exitCode, 2);
  t.is(bad.stderr.trim(), "metal: --bmc port must be 1..65535 (got '99999')");
  t.is((await metal("bmc", "power", "explode", ...redfishArgs())).exitCode, 2);
  const open = await metal("bmc", "power", "status", "--bmc", "127.0.0.1", "--user", "u", "--password-file", pw("open", "y", 0o644));
  t.is(open.exitCode, 2);
  t.regex(open.stderr, /too open; use chmod 600/);
});

test.serial("metal console H follows a serial line into <log-dir>/H.log", async (t) => {
  const pty = await PtyPair.open();
  t.teardown(() => pty.close());
  const logDir = join(dir, "console");
  const child = metal("console", "worker-7", "--serial", pty.a, "--log-dir", logDir, "--duration", "2");
  // Write once the console is open (it says so on stderr), as a host that keeps printing would be seen.
  await new Promise<void>((resolve) => {
    let err = "";
    child.stderr?.on("data", (c: Buffer) => {
      err += c.toString();
      if (err.includes("following worker-7's console")) resolve();
    });
    void child.then(() => resolve());
  });
  const host = openSync(pty.b, "r+");
  writeSync(host, "worker-7 login: ");
  closeSync(host);
  const r = await child;
  t.is(r.exitCode, 0, r.stderr);
  t.is(r.stdout, "worker-7 login: ");
  t.is(readFileSync(join(logDir, "worker-7.log"), "utf8"), "worker-7 login: ");
});

test.serial("metal bmc conformance runs the shared suite against a BMC with one command", async (t) => {
  const r = await metal("bmc", "conformance", ...redfishArgs(), "--protocol", "redfish");
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.regex(r.stdout + r.stderr, /redfish@127\.0\.0\.1:\d+: power on\/off\/cycle\/reset/);
  t.regex(r.stdout + r.stderr, /redfish@127\.0\.0\.1:\d+: events report a power change/);
  t.regex(r.stdout, /^pass {2}redfish@127\.0\.0\.1:\d+: power on\/off\/cycle\/reset$/m);
  t.regex(r.stdout, /^conformance redfish@127\.0\.0\.1:\d+: pass, 15 passed, 0 failed, \d+ skipped$/m);
});
