import { execFile, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";
import { type Running, startEmulator } from "./helpers.js";

const run = promisify(execFile);

/**
 * Debian's redfishtool is the client the original system drives (reference §6.2). An emulator it accepts,
 * with both basic and session auth, is a fair stand-in for a BMC. The credentials go in a 0600 config file (-c)
 * as the reference does.
 */
async function redfishtool(r: Running, auth: "Basic" | "Session", ...args: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "metal-rft-"));
  const cfg = join(dir, "cfg.json");
  writeFileSync(cfg, JSON.stringify({ username: "root", user: "root", password: "calvin" }), { mode: 0o600 });
  chmodSync(cfg, 0o600);
  const { stdout } = await run("redfishtool", ["-r", `127.0.0.1:${r.port}`, "-S", "Never", "-A", auth, "-T", "10", "-c", cfg, ...args], { timeout: 30_000 });
  return stdout;
}

let r: Running;
test.before(async () => {
  r = await startEmulator();
});
test.after.always(() => r.emulator.close());

test.serial("redfishtool root reads the service root and RedfishVersion", async (t) => {
  const root = JSON.parse(await redfishtool(r, "Basic", "root")) as { RedfishVersion: string };
  t.is(root.RedfishVersion, "1.11.0");
});

for (const auth of ["Basic", "Session"] as const) {
  test.serial(`redfishtool (${auth} auth): Systems get, reset, setBootOverride, Chassis Thermal/Power, raw GET`, async (t) => {
    r.emulator.machine.reset("ForceOff");
    const sys = JSON.parse(await redfishtool(r, auth, "Systems", "get")) as { PowerState: string; Manufacturer: string };
    t.is(sys.PowerState, "Off");
    t.is(sys.Manufacturer, "Metal Emulated Systems");
    await redfishtool(r, auth, "Systems", "reset", "On");
    t.is(r.emulator.machine.power, "On");
    await redfishtool(r, auth, "Systems", "reset", "GracefulRestart");
    t.is(r.emulator.machine.resets.at(-1), "GracefulRestart");
    await redfishtool(r, auth, "Systems", "setBootOverride", "Once", "Pxe");
    t.like(r.emulator.machine.boot, { enabled: "Once", target: "Pxe" });
    const thermal = JSON.parse(await redfishtool(r, auth, "Chassis", "Thermal")) as { Temperatures: Array<{ Name: string }> };
    t.true(thermal.Temperatures.some((x) => x.Name === "CPU1 Temp"));
    const power = JSON.parse(await redfishtool(r, auth, "Chassis", "Power")) as { Voltages: unknown[] };
    t.true(power.Voltages.length > 0);
    const mgr = JSON.parse(await redfishtool(r, auth, "raw", "GET", "/redfish/v1/Managers/1")) as { FirmwareVersion: string };
    t.is(mgr.FirmwareVersion, "5.10.00");
    t.is(r.emulator.activeSessions(), 0, "redfishtool logged out of every session it opened");
    if (auth === "Session") t.true(r.emulator.requestLog.some((e) => e.method === "DELETE" && e.path.includes("/Sessions/")));
  });
}

test.serial("redfishtool with a wrong password fails", async (t) => {
  const err = await t.throwsAsync(
    run("redfishtool", ["-r", `127.0.0.1:${r.port}`, "-S", "Never", "-A", "Session", "-u", "root", "-p", "bad", "Systems", "get"], { timeout: 30_000 }),
  );
  t.truthy(err);
});

test.serial("metal redfish-emulator --port 0 --profile F serves the profile until SIGTERM", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-rfe-"));
  const profile = join(dir, "p.json");
  writeFileSync(profile, JSON.stringify({ manufacturer: "Acme", username: "admin", password: "pw", faults: { sessionCap: 2 } }));
  const main = fileURLToPath(new URL("../../../core/dist/src/cli/main.js", import.meta.url));
  const child = spawn(process.execPath, [main, "redfish-emulator", "--port", "0", "--profile", profile], { stdio: ["ignore", "pipe", "pipe"] });
  t.teardown(() => child.kill("SIGKILL"));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 90_000);
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  const port = new URL(url).port;
  const { stdout } = await run("redfishtool", ["-r", `127.0.0.1:${port}`, "-S", "Never", "-u", "admin", "-p", "pw", "Systems", "get"], { timeout: 30_000 });
  t.is((JSON.parse(stdout) as { Manufacturer: string }).Manufacturer, "Acme");
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  t.is(await exited, 0);
});

test.serial("metal redfish-emulator with a bad profile exits 2 with a one-line reason", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-rfe-"));
  const profile = join(dir, "p.json");
  writeFileSync(profile, JSON.stringify({ colour: "blue" }));
  const main = fileURLToPath(new URL("../../../core/dist/src/cli/main.js", import.meta.url));
  const err = await t.throwsAsync(run(process.execPath, [main, "redfish-emulator", "--port", "0", "--profile", profile], { timeout: 30_000 }));
  t.is((err as { code?: number }).code, 2);
  t.is((err as unknown as { stderr: string }).stderr.trim(), "metal: unknown profile key 'colour'");
});
