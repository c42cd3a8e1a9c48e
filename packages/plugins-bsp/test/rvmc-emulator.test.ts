import { spawn } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DefaultBmcRegistry, SystemClock } from "@metal/core";
import { type EmulatorProfileInput, RedfishEmulator, redfishFactory } from "@metal/plugin-redfish";
import test, { type ExecutionContext } from "ava";
import { parseRvmcConfig } from "../src/rvmc/config.js";
import type { RvmcReport, StepEvent } from "../src/rvmc/sequence.js";
import { runRvmc } from "../src/rvmc/sequence.js";
import { fastTiming, tempDir } from "./helpers.js";

/**
 * RVMC against the Redfish emulator of @metal/plugin-redfish, through the Redfish plugin's driver: real
 * HTTP on loopback, sessions, the emulator's vendor quirks and fault knobs.
 */
const IMAGE = "http://192.168.204.2:8080/iso/subcloud1/bootimage.iso";
const FAST = fastTiming(20, 5);

async function emulator(t: ExecutionContext, profile: EmulatorProfileInput = {}) {
  const emu = new RedfishEmulator(profile);
  const { port } = await emu.listen({ port: 0, host: "127.0.0.1" });
  t.teardown(() => emu.close());
  return { emu, port };
}

/** A config document for the emulators given, in the rvmc.yaml shape, with fast driver polling. */
function configDoc(targets: Record<string, { port: number; password?: string }>) {
  const entry = (port: number, password = "calvin") => ({
    bmc_address: "127.0.0.1",
    bmc_port: port,
    bmc_scheme: "http",
    bmc_username: "root",
    bmc_password: Buffer.from(password).toString("base64"),
    image: IMAGE,
    bmc_options: { pollMs: 20, backoffMs: 20, powerVerifyMs: 5000 },
  });
  return {
    virtual_media_iso: Object.fromEntries(Object.entries(targets).map(([name, x]) => [name, entry(x.port, x.password)])),
    poll_interval_s: 0.02,
    retry_delay_s: 0.02,
    connect_delay_s: 0.02,
  };
}

async function runOne(port: number, onStep?: (e: StepEvent) => void): Promise<RvmcReport> {
  const cfg = parseRvmcConfig(configDoc({ subcloud1: { port } }));
  const registry = new DefaultBmcRegistry();
  const clock = new SystemClock();
  registry.register(redfishFactory({ clock }), "@metal/plugin-redfish");
  return runRvmc(cfg.targets[0]!, FAST, { registry, clock, ...(onStep ? { onStep } : {}) });
}

test("the full sequence against the emulator: old media ejected, powered off, ISO inserted, Cd once in UEFI, powered on", async (t) => {
  const { emu, port } = await emulator(t, { faults: { mediaDelayMs: 150, poweringMs: 150 } });
  emu.machine.power = "On";
  emu.machine.media = { inserted: true, image: "http://old/bootimage.iso" };
  const r = await runOne(port);
  t.true(r.ok, r.error);
  t.deepEqual(emu.machine.media, { inserted: true, image: IMAGE });
  t.deepEqual(emu.machine.boot, { enabled: "Once", target: "Cd", mode: "UEFI" });
  t.is(emu.machine.power, "On");
  const resets = emu.machine.resets;
  t.regex(resets.at(-1) ?? "", /^(Force)?On$/, `powered on last: ${resets.join(",")}`);
  t.true(
    resets.some((x) => x === "ForceOff" || x === "GracefulShutdown"),
    `powered off first: ${resets.join(",")}`,
  );
  t.true(
    emu.requestLog.some((x) => x.method === "POST" && x.path.includes("EjectMedia")),
    "the old image was ejected through the EjectMedia action",
  );
  t.true(emu.requestLog.some((x) => x.method === "POST" && x.path.includes("InsertMedia")));
});

test("a BMC that refuses BootSourceOverrideMode (read-only, HTTP 400) still boots once from Cd", async (t) => {
  const { emu, port } = await emulator(t, { quirks: { bootModeReadOnly: true } });
  const r = await runOne(port);
  t.true(r.ok, r.error);
  t.is(emu.machine.boot.enabled, "Once");
  t.is(emu.machine.boot.target, "Cd");
  t.true(
    emu.requestLog.some((x) => x.method === "PATCH" && x.status === 400),
    "the BMC did refuse the mode",
  );
  t.is(emu.machine.power, "On");
});

test("a BMC with no BootSourceOverrideMode at all (X10) boots once from Cd", async (t) => {
  const { emu, port } = await emulator(t, { quirks: { noBootMode: true } });
  const r = await runOne(port);
  t.true(r.ok, r.error);
  t.is(emu.machine.boot.target, "Cd");
});

test("a BMC that answers 409 (the host is already in the asked state) does not fail the install", async (t) => {
  const { emu, port } = await emulator(t, { faults: { conflictOnSameState: true } });
  // Someone (or the BMC itself, after the override) powers the host on just before RVMC asks to.
  const r = await runOne(port, (e) => {
    if (e.step === "power-on" && e.status === "start") emu.machine.reset("On");
  });
  t.true(r.ok, r.error);
  t.true(
    emu.requestLog.some((x) => x.method === "POST" && x.path.endsWith("ComputerSystem.Reset") && x.status === 409),
    `the BMC answered 409: ${JSON.stringify(emu.requestLog.filter((x) => x.method === "POST"))}`,
  );
  t.is(emu.machine.power, "On");
});

test("media inserted behind RVMC's back before the insert: ejected again, then the right ISO goes in", async (t) => {
  const { emu, port } = await emulator(t);
  const r = await runOne(port, (e) => {
    if (e.step === "insert" && e.status === "start") emu.machine.media = { inserted: true, image: "http://intruder/x.iso" };
  });
  t.true(r.ok, r.error);
  t.deepEqual(emu.machine.media, { inserted: true, image: IMAGE });
});

test("a wrong password stops at connect with an auth error and no retries", async (t) => {
  const { port } = await emulator(t);
  const cfg = parseRvmcConfig(configDoc({ sc: { port, password: "wrong" } }));
  const registry = new DefaultBmcRegistry();
  const clock = new SystemClock();
  registry.register(redfishFactory({ clock }), "@metal/plugin-redfish");
  const r = await runRvmc(cfg.targets[0]!, FAST, { registry, clock });
  t.false(r.ok);
  t.is(r.failedStep, "connect");
  t.is(r.errorCode, "auth");
});

test("metal bsp rvmc: three BMCs in parallel from one rvmc.yaml, through the plugin the CLI loads", async (t) => {
  const a = await emulator(t);
  const b = await emulator(t, { quirks: { bootModeReadOnly: true } });
  const c = await emulator(t);
  a.emu.machine.power = "On";
  const dir = tempDir();
  const file = join(dir, "rvmc.yaml");
  writeFileSync(
    file,
    JSON.stringify(configDoc({ "subcloud-a": { port: a.port }, "subcloud-b": { port: b.port }, "subcloud-c": { port: c.port, password: "nope" } })),
  );
  chmodSync(file, 0o600);
  const main = fileURLToPath(import.meta.resolve("@metal/core/cli/main"));
  // Async spawn: the emulators live in this process and must keep answering while the CLI runs.
  const child = spawn(process.execPath, [main, "bsp", "rvmc", "--config", file, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const code = await new Promise<number | null>((res) => child.on("exit", res));
  clearTimeout(killer);
  t.is(code, 1, stderr);
  const reports = JSON.parse(stdout) as RvmcReport[];
  t.deepEqual(
    reports.map((r) => [r.target, r.ok, r.failedStep ?? null]),
    [
      ["subcloud-a", true, null],
      ["subcloud-b", true, null],
      ["subcloud-c", false, "connect"],
    ],
  );
  t.regex(stderr, /subcloud-a: power-on ok/, "per-step progress lines on a pipe");
  // --json asked: the CLI's failure is one JSON line {status, reason} on stderr (cli/output.ts convention).
  const lastLine = stderr.trim().split("\n").at(-1) ?? "";
  t.deepEqual(JSON.parse(lastLine), { status: "fail", reason: "1 of 3 target(s) failed: subcloud-c at connect" }, stderr);
  t.notRegex(stdout + stderr, /calvin|nope/, "no password in any output");
  t.deepEqual(a.emu.machine.media, { inserted: true, image: IMAGE });
  t.is(b.emu.machine.boot.target, "Cd");
  t.is(c.emu.machine.power, "Off");
});
