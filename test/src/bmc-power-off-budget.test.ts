/**
 * Issue 14 item 5, as an operator meets it: `metal bmc power off` on a host whose OS ignores the graceful shutdown. The
 * forced variant goes out within --timeout (graceful had its share), "done" means an Off read back, and when time runs
 * out the one line says what was read back and what was sent, never "no answer" from a BMC that answered every request.
 * Real peers: the Redfish emulator (its OS ignoring GracefulShutdown) and OpenIPMI's ipmi_sim through ipmitool.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IpmiSim } from "@metal/plugin-ipmi/testing/ipmi-sim";
import { RedfishEmulator } from "@metal/plugin-redfish";
import test from "ava";
import { execa } from "execa";

const main = fileURLToPath(import.meta.resolve("@metal/core/cli/main"));
const metal = (...args: string[]) => execa(process.execPath, [main, ...args], { reject: false, timeout: 90_000 });

const dir = mkdtempSync(join(tmpdir(), "metal-poweroff-"));
const pw = (name: string, value: string) => {
  const f = join(dir, name);
  writeFileSync(f, `${value}\n`, { mode: 0o600 });
  return f;
};
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

async function emulator(faults: { gracefulIgnored: boolean; powerStateAs?: string }) {
  const rf = new RedfishEmulator({ faults });
  const { port } = await rf.listen({ port: 0 });
  rf.machine.reset("On");
  const args = ["--bmc", `127.0.0.1:${port}`, "--user", "root", "--password-file", pw("rf", "calvin"), "--scheme", "http", "--protocol", "redfish"];
  return { rf, args };
}

interface PowerJson {
  ok: boolean;
  readBack: string;
  sent: Array<{ request: string; atMs: number }>;
  elapsedMs: number;
}

test("redfish, an OS that ignores the graceful shutdown: ForceOff within --timeout, done on an Off read-back", async (t) => {
  const { rf, args } = await emulator({ gracefulIgnored: true });
  t.teardown(() => rf.close());
  const r = await metal("bmc", "power", "off", ...args, "--timeout", "10", "--json");
  t.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as PowerJson;
  t.like(out, { ok: true, readBack: "off" });
  t.deepEqual(
    out.sent.map((x) => x.request),
    ["GracefulShutdown", "ForceOff"],
  );
  t.true(out.elapsedMs <= 10_000, `within the caller's 10 s: ${out.elapsedMs} ms`);
  t.deepEqual(rf.machine.resets, ["On", "GracefulShutdown", "ForceOff"]);
  t.is(rf.machine.power, "Off");
  // The text form says the same in one line.
  rf.machine.reset("On");
  const text = await metal("bmc", "power", "off", ...args, "--timeout", "10");
  t.is(text.exitCode, 0, text.stderr);
  t.regex(text.stdout.trim(), /^power off: off \(read back\) after [\d.]+ s; sent GracefulShutdown at [\d.]+ s, ForceOff at [\d.]+ s$/);
});

test("redfish, a host that still reads On: exit 1 within --timeout saying what was read back and sent, not 'no answer'", async (t) => {
  const { rf, args } = await emulator({ gracefulIgnored: true, powerStateAs: "On" });
  t.teardown(() => rf.close());
  const r = await metal("bmc", "power", "off", ...args, "--timeout", "8");
  t.is(r.exitCode, 1);
  const line = r.stderr.trim();
  t.regex(line, /^metal: power off: timeout: still on after [\d.]+ s \(GracefulShutdown sent at [\d.]+ s, ForceOff sent at [\d.]+ s\)$/);
  t.true(Number(/after ([\d.]+) s/.exec(line)?.[1]) <= 8, line);
  t.notRegex(line, /no answer/);
  t.true(rf.machine.resets.includes("ForceOff"), "ForceOff really went out");
});

test("ipmi (ipmi_sim through ipmitool): power off and on are done on a read-back of the new state", async (t) => {
  const sim = await IpmiSim.start();
  t.teardown(() => sim.stop());
  const args = ["--bmc", `127.0.0.1:${sim.port}`, "--user", "admin", "--password-file", pw("ipmi", "secret"), "--protocol", "ipmi"];
  const on = await metal("bmc", "power", "on", ...args);
  t.is(on.exitCode, 0, on.stderr);
  t.regex(on.stdout.trim(), /^power on: on \(read back\) after [\d.]+ s$/);
  const off = await metal("bmc", "power", "off", ...args, "--json");
  t.is(off.exitCode, 0, off.stderr);
  t.like(JSON.parse(off.stdout), { ok: true, readBack: "off", sent: [] });
  const st = await metal("bmc", "power", "status", ...args);
  t.is(st.stdout.trim(), "off");
});
