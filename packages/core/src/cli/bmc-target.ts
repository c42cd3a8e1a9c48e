import type { Command } from "commander";
import { BmcBrokerPool, brokerSettings } from "../bmc/broker-pool.js";
import { type LearnResult, learnProtocol } from "../bmc/learn.js";
import type { MetalConfig } from "../config/schema.js";
import { createMetalContainer } from "../di/container.js";
import { secretFromFile } from "../di/secret.js";
import { Tokens } from "../di/tokens.js";
import { silentLogger } from "../logging/logger.js";
import { type BmcDriver, BmcError, type BmcTarget, isBmcError } from "../plugin-api/bmc.js";
import { loadCliConfig } from "./config-option.js";
import { CliError } from "./errors.js";
import { type OutputOptions, withOutputOptions } from "./output.js";

export interface BmcCliOptions extends OutputOptions {
  protocol: string;
  bmc: string;
  user: string;
  passwordFile: string;
  insecure?: boolean;
  ca?: string;
  scheme?: string;
  timeout?: string;
  host?: string;
  config?: string;
}

/** The options every `metal bmc ...` command shares (the stable CLI contract of the BMC issue). */
export function withBmcTarget(cmd: Command): Command {
  return withOutputOptions(cmd)
    .requiredOption("--bmc <addr[:port]>", "BMC address, optionally with a port ([v6addr]:port for IPv6)")
    .requiredOption("--user <name>", "BMC user name")
    .requiredOption("--password-file <file>", "file holding the BMC password (must not be group/world readable)")
    .option("--protocol <p>", "ipmi | redfish | any protocol a loaded plugin provides | dynamic (learn it: Redfish service root, else IPMI)", "dynamic")
    .option("--insecure", "Redfish: do not verify the BMC's TLS certificate")
    .option("--ca <file>", "Redfish: CA bundle to verify the BMC's certificate")
    .option("--scheme <s>", "Redfish: https (default) or http")
    .option("--timeout <seconds>", "bound for the whole operation (default: bmc.timeout from the config, 30)")
    .option("--host <name>", "maintenance hostname, for messages and logs", "bmc")
    .option("-c, --config <file>", "metal config file (default $METAL_CONFIG)");
}

/** ADDR, ADDR:PORT, [V6]:PORT or a bare V6 address. */
export function parseBmcAddress(s: string): { address: string; port?: number } {
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(s);
  const m = v6 ?? (s.split(":").length > 2 ? [s, s, undefined] : /^([A-Za-z0-9.-]+)(?::(\d+))?$/.exec(s));
  if (!m?.[1]) throw new CliError(`--bmc must be ADDR[:PORT] (got '${s}')`);
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new CliError(`--bmc port must be 1..65535 (got '${m[2]}')`);
  return { address: m[1], ...(port !== undefined ? { port } : {}) };
}

export interface BmcSession {
  config: MetalConfig;
  target: BmcTarget;
  protocol: string;
  learned?: LearnResult;
  driver: BmcDriver;
  timeoutMs: number;
  close(): Promise<void>;
}

/** Build the target, learn the protocol if asked, and connect through a broker (the same path daemons use). */
export async function openBmc(opts: BmcCliOptions): Promise<BmcSession> {
  const config = await loadCliConfig(opts.config);
  // Any protocol a loaded plugin registered (checked against the registry below), or dynamic.
  if (!/^[a-z0-9-]{1,32}$/.test(opts.protocol))
    throw new CliError(`--protocol must be a BMC protocol name such as ipmi, redfish or dynamic (got '${opts.protocol}')`);
  if (opts.scheme !== undefined && opts.scheme !== "http" && opts.scheme !== "https")
    throw new CliError(`--scheme must be http or https (got '${opts.scheme}')`);
  const timeoutS = opts.timeout === undefined ? config.bmc.timeout : Number(opts.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 3600) throw new CliError(`--timeout must be 1..3600 seconds (got '${opts.timeout}')`);
  const timeoutMs = Math.round(timeoutS * 1000);
  let password: BmcTarget["password"];
  try {
    password = secretFromFile(opts.passwordFile);
  } catch (err) {
    throw new CliError(`--password-file: ${(err as Error).message}`);
  }
  const target: BmcTarget = {
    host: opts.host ?? "bmc",
    ...parseBmcAddress(opts.bmc),
    username: opts.user,
    password,
    ...(opts.insecure ? { insecure: true } : {}),
    ...(opts.ca ? { caFile: opts.ca } : {}),
    timeoutMs,
    options: { minIntervalMs: config.bmc.minCommandIntervalMs, ...(opts.scheme ? { scheme: opts.scheme } : {}) },
  };
  let protocol = opts.protocol;
  let learned: LearnResult | undefined;
  if (protocol === "dynamic") {
    learned = await learnProtocol(target, { timeoutMs: Math.min(timeoutMs, 10_000) });
    protocol = learned.protocol;
  }
  const container = await createMetalContainer({ config, logger: silentLogger() });
  const registry = container.resolve(Tokens.BmcRegistry);
  if (!registry.has(protocol)) throw new CliError(`no plugin provides BMC protocol '${protocol}'`, 1);
  const pool = new BmcBrokerPool(registry, brokerSettings(config), container.resolve(Tokens.Clock));
  const broker = pool.get(protocol, target);
  return {
    config,
    target,
    protocol,
    ...(learned ? { learned } : {}),
    driver: broker.driver,
    timeoutMs,
    close: () => closeWithin(pool.closeAll(), 3_000),
  };
}

async function closeWithin(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * Run one BMC operation within the configured timeout. Failures (unreachable, wrong password, timeout)
 * become one line and exit status 1; the process is not held open by a stuck child or socket.
 */
export async function runBounded<T>(session: BmcSession, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BmcError("timeout", `no answer from BMC ${session.target.address} within ${session.timeoutMs / 1000} s`, session.target.host)),
      session.timeoutMs,
    );
  });
  try {
    return await Promise.race([fn(), deadline]);
  } catch (err) {
    // Whatever is still running (a killed child's pipes, a socket) must not keep the CLI alive.
    setTimeout(() => process.exit(typeof process.exitCode === "number" ? process.exitCode : 1), 500).unref();
    if (isBmcError(err)) {
      // A plugin's message that already names the operation ("power off: still on after ...") is not prefixed twice.
      const message = err.message.startsWith(`${what}: `) ? err.message.slice(what.length + 2) : err.message;
      throw new CliError(`${what}: ${err.code}: ${message}`, 1);
    }
    throw new CliError(`${what}: ${(err as Error).message}`, 1);
  } finally {
    clearTimeout(timer);
    await session.close();
  }
}
