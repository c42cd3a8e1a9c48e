import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { learnProtocol } from "../../bmc/learn.js";
import { describePowerOutcome, powerWithReadBack } from "../../bmc/power-read-back.js";
import { SystemClock } from "../../clock/system-clock.js";
import { requireCapability } from "../../di/bmc-registry.js";
import { createMetalContainer } from "../../di/container.js";
import { findWorkspaceRoot } from "../../di/discovery.js";
import { secretFromFile, secretFromString } from "../../di/secret.js";
import { Tokens } from "../../di/tokens.js";
import { silentLogger } from "../../logging/logger.js";
import type { PowerAction, SensorReading } from "../../plugin-api/bmc.js";
import { type BmcCliOptions, openBmc, parseBmcAddress, runBounded, withBmcTarget } from "../bmc-target.js";
import { loadCliConfig } from "../config-option.js";
import { CliError } from "../errors.js";
import { outputFormat, printList, printRecord } from "../output.js";
import { parseTap } from "../tap-summary.js";

const POWER_ACTIONS = ["status", "on", "off", "reset", "cycle"] as const;

/**
 * The table format of these commands is their own text (the power state alone, a sensor table with thresholds),
 * which scripts already read; every other format, or --column, goes through the common output module.
 */
function print(opts: BmcCliOptions, data: object | object[], text: string, fields: readonly string[]): void {
  if (outputFormat(opts) === "table" && !opts.column?.length) process.stdout.write(`${text}\n`);
  else if (Array.isArray(data)) printList(opts, data, fields);
  else printRecord(opts, data, fields);
}

function fmt(n: number | null | undefined): string {
  return n === null || n === undefined ? "na" : String(n);
}

function sensorRow(r: SensorReading): string {
  const t = r.thresholds ?? {};
  return [
    r.name.padEnd(20),
    fmt(r.value).padStart(10),
    r.unit.padEnd(10),
    r.status.padEnd(3),
    ...[t.lowerNonRecoverable, t.lowerCritical, t.lowerNonCritical, t.upperNonCritical, t.upperCritical, t.upperNonRecoverable].map((v) => fmt(v).padStart(8)),
  ].join(" ");
}

/** `metal bmc power|info|sensors|learn`: talk to one BMC directly (the CLI contract scripts depend on). */
export function bmcCommand(program: Command): void {
  const bmc = program.command("bmc").description("talk to one BMC: power, info, sensors, protocol learning (ipmi | redfish | dynamic)");

  withBmcTarget(bmc.command("power").description("power status|on|off|reset|cycle").argument("<action>", POWER_ACTIONS.join("|"))).action(
    async (action: string, opts: BmcCliOptions) => {
      if (!(POWER_ACTIONS as readonly string[]).includes(action)) throw new CliError(`power action must be ${POWER_ACTIONS.join(", ")} (got '${action}')`);
      const s = await openBmc(opts);
      const power = requireCapability(s.driver, "power");
      if (action === "status") {
        const state = await runBounded(s, "power status", () => power.status());
        print(opts, { host: s.target.host, bmc: opts.bmc, protocol: s.protocol, power: state }, state, ["host", "bmc", "protocol", "power"]);
        return;
      }
      // Done means read back in the wanted state, within --timeout (escalation included): what was sent and read is printed.
      const r = await runBounded(s, `power ${action}`, () =>
        powerWithReadBack(power, action as PowerAction, { budgetMs: s.timeoutMs, clock: new SystemClock(), host: s.target.host }),
      );
      const row = {
        host: s.target.host,
        bmc: opts.bmc,
        protocol: s.protocol,
        action,
        ok: true,
        ...(r.readBack ? { readBack: r.readBack } : {}),
        sent: r.sent,
        elapsedMs: r.elapsedMs,
      };
      print(opts, row, describePowerOutcome(r), ["host", "bmc", "protocol", "action", "ok", "readBack"]);
    },
  );

  withBmcTarget(bmc.command("info").description("manufacturer, model, serial, firmware, power state")).action(async (opts: BmcCliOptions) => {
    const s = await openBmc(opts);
    const info = await runBounded(s, "info", () => requireCapability(s.driver, "info").get());
    const lines = [
      `Protocol:      ${s.protocol}`,
      `Manufacturer:  ${info.manufacturer}`,
      `Model:         ${info.model}`,
      `Serial:        ${info.serial}`,
      `Firmware:      ${info.firmwareVersion}`,
      `Power:         ${info.powerState ?? "unknown"}`,
    ];
    print(opts, { protocol: s.protocol, ...info }, lines.join("\n"), ["protocol", "manufacturer", "model", "serial", "firmwareVersion", "powerState"]);
  });

  withBmcTarget(bmc.command("sensors").description("sensor readings: name, reading, unit, status, thresholds")).action(async (opts: BmcCliOptions) => {
    const s = await openBmc(opts);
    const readings = await runBounded(s, "sensors", () => requireCapability(s.driver, "sensors").read());
    const head = [
      "name".padEnd(20),
      "reading".padStart(10),
      "unit".padEnd(10),
      "st ",
      ...["lnr", "lcr", "lnc", "unc", "ucr", "unr"].map((h) => h.padStart(8)),
    ].join(" ");
    print(opts, readings, [head, ...readings.map(sensorRow)].join("\n"), ["name", "value", "unit", "status"]);
  });

  withBmcTarget(bmc.command("learn").description("learn the protocol (Redfish service root with RedfishVersion >= 1.0, else IPMI) and say why")).action(
    async (opts: BmcCliOptions) => {
      const s = await openBmc({ ...opts, protocol: "dynamic" });
      await s.close();
      const learned = s.learned!;
      print(opts, learned, `${learned.protocol}: ${learned.reason}`, ["protocol", "reason"]);
    },
  );

  withBmcTarget(
    bmc
      .command("conformance")
      .description("run the shared BMC conformance suite (ava) against this BMC with the plugin for --protocol")
      .option("--media-url <url>", "an image URL the BMC can mount, for the virtual-media test"),
  ).action(async (opts: BmcCliOptions & { mediaUrl?: string }) => {
    const root = findWorkspaceRoot();
    const file = root ? join(root, "test/dist/vendor-conformance.test.js") : "";
    const ava = root ? join(root, "node_modules/.bin/ava") : "";
    if (!root || !existsSync(file) || !existsSync(ava))
      throw new CliError("the conformance runner needs the metal workspace, built (bash scripts/build.sh)", 1);
    parseBmcAddress(opts.bmc);
    // Relative files are where the operator stands (the runner itself works in the workspace).
    const passwordFile = resolve(opts.passwordFile);
    try {
      secretFromFile(passwordFile);
    } catch (err) {
      throw new CliError(`--password-file: ${(err as Error).message}`);
    }
    let protocol = opts.protocol;
    if (protocol === "dynamic") {
      const a = parseBmcAddress(opts.bmc);
      protocol = (
        await learnProtocol({
          host: "bmc",
          ...a,
          username: opts.user,
          password: secretFromString(""),
          ...(opts.insecure ? { insecure: true } : {}),
          options: opts.scheme ? { scheme: opts.scheme } : {},
        })
      ).protocol;
    }
    // A protocol no loaded plugin provides is one line here, not a failed test run.
    const config = await loadCliConfig(opts.config);
    const registry = (await createMetalContainer({ config, logger: silentLogger() })).resolve(Tokens.BmcRegistry);
    if (!registry.has(protocol)) {
      throw new CliError(
        `no plugin provides BMC protocol '${protocol}' (loaded: ${
          registry
            .list()
            .map((x) => x.protocol)
            .join(", ") || "none"
        })`,
        1,
      );
    }
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      METAL_BMC_PROTOCOL: protocol,
      METAL_BMC: opts.bmc,
      METAL_BMC_USER: opts.user,
      METAL_BMC_PASSWORD_FILE: passwordFile,
      METAL_BMC_OPTIONS: JSON.stringify(opts.scheme ? { scheme: opts.scheme } : {}),
      ...(opts.insecure ? { METAL_BMC_INSECURE: "1" } : {}),
      ...(opts.ca ? { METAL_BMC_CA: resolve(opts.ca) } : {}),
      ...(opts.config ? { METAL_CONFIG: resolve(opts.config) } : process.env.METAL_CONFIG ? { METAL_CONFIG: resolve(process.env.METAL_CONFIG) } : {}),
      ...(opts.mediaUrl ? { METAL_BMC_MEDIA_URL: opts.mediaUrl } : {}),
    };
    // ava reports in TAP, read here: one line per check (or one JSON document), never ava's stack traces.
    let tap = "";
    let errText = "";
    const code = await new Promise<number>((resolve) => {
      const child = spawn(ava, [file, "--timeout", "5m", "--tap"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        tap += d;
      });
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        if (errText.length < 64 * 1024) errText += d;
      });
      child.once("close", (c) => resolve(c ?? 1));
      child.once("error", () => resolve(1));
    });
    const tests = parseTap(tap);
    const count = (s: string) => tests.filter((x) => x.status === s).length;
    const failed = count("fail");
    const status = code === 0 && failed === 0 && tests.length > 0 ? "pass" : "fail";
    const target = `${protocol}@${opts.bmc}`;
    if (tests.length === 0) {
      // The runner did not get to run a check (a config or plugin problem): its first error line says why.
      const why = errText.split("\n").find((l) => /error|not |no plugin|cannot/i.test(l) && !/^\s+at /.test(l)) ?? `the runner exited with ${code}`;
      throw new CliError(`conformance ${target}: ${why.trim().replace(/^✘\s*/, "")}`, 1);
    }
    if (outputFormat(opts) === "json") {
      process.stdout.write(
        `${JSON.stringify({ status, protocol, bmc: opts.bmc, passed: count("pass"), failed, skipped: count("skip") + count("todo"), tests }, null, 2)}\n`,
      );
    } else {
      for (const x of tests) process.stdout.write(`${x.status.padEnd(4)}  ${x.title}${x.reason ? `: ${x.reason}` : ""}\n`);
      process.stdout.write(`conformance ${target}: ${status}, ${count("pass")} passed, ${failed} failed, ${count("skip") + count("todo")} skipped\n`);
    }
    process.exitCode = status === "pass" ? 0 : 1;
  });
}
