import { join } from "node:path";
import type { Command } from "commander";
import { consoleLogPath, followConsole } from "../../bmc/console-follow.js";
import { serialConsole } from "../../bmc/serial-console.js";
import { requireCapability } from "../../di/bmc-registry.js";
import type { ConsoleAccess } from "../../plugin-api/bmc.js";
import { type BmcCliOptions, openBmc } from "../bmc-target.js";
import { loadCliConfig } from "../config-option.js";
import { CliError } from "../errors.js";

interface ConsoleOptions extends Partial<BmcCliOptions> {
  serial?: string;
  baud?: string;
  logDir?: string;
  duration?: string;
  echo: boolean;
}

/**
 * `metal console H`: follow host H's serial console (BMC SOL, or a serial line) on the terminal and append it
 * to H's console log file, until Ctrl-C or --duration.
 */
export function consoleCommand(program: Command): void {
  const cmd = program
    .command("console")
    .description("follow a host's serial console (IPMI SOL or a serial line) and log it to <log-dir>/<host>.log")
    .argument("<host>", "maintenance hostname");
  cmd
    .option("--serial <device>", "a serial line instead of the BMC (e.g. /dev/ttyUSB0)")
    .option("--baud <n>", "serial line speed", "115200")
    .option("--log-dir <dir>", "console log directory (default: bmc.consoleLogDir under root)")
    .option("--duration <seconds>", "stop after this long (default: until Ctrl-C)")
    .option("--no-echo", "only log, do not print the console")
    .option("--bmc <addr[:port]>", "BMC address (for SOL)")
    .option("--user <name>", "BMC user name")
    .option("--password-file <file>", "file holding the BMC password")
    .option("--protocol <p>", "ipmi | redfish | dynamic", "ipmi")
    .option("--timeout <seconds>", "bound for opening the console")
    .option("-c, --config <file>", "metal config file")
    .action(async (host: string, opts: ConsoleOptions) => {
      const config = await loadCliConfig(opts.config);
      const dir = opts.logDir ?? join(config.root, config.bmc.consoleLogDir);
      let logFile: string;
      try {
        logFile = consoleLogPath(dir, host);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      let access: ConsoleAccess;
      let close = async () => {};
      if (opts.serial) {
        const baud = Number(opts.baud);
        if (!Number.isInteger(baud) || baud < 50 || baud > 4_000_000) throw new CliError(`--baud must be a serial speed (got '${opts.baud}')`);
        access = serialConsole(opts.serial, baud, host);
      } else {
        if (!opts.bmc || !opts.user || !opts.passwordFile) throw new CliError("give --serial DEVICE, or --bmc, --user and --password-file for SOL");
        const s = await openBmc({ ...(opts as BmcCliOptions), host });
        access = requireCapability(s.driver, "console");
        close = () => s.close();
      }
      const duration = opts.duration === undefined ? undefined : Number(opts.duration);
      if (duration !== undefined && (!Number.isFinite(duration) || duration <= 0))
        throw new CliError(`--duration must be a positive number of seconds (got '${opts.duration}')`);
      let follower: Awaited<ReturnType<typeof followConsole>>;
      try {
        follower = await followConsole(access, logFile, opts.echo ? (c) => process.stdout.write(c) : undefined);
      } catch (err) {
        await close();
        throw new CliError(`console ${host}: ${(err as Error).message}`, 1);
      }
      process.stderr.write(`metal: following ${host}'s console; logging to ${logFile}\n`);
      if (process.stdin.isTTY) {
        process.stdin.setRawMode(true);
        process.stdin.on("data", (d: Buffer) => {
          // Ctrl-] leaves, as telnet and virsh console do.
          if (d.includes(0x1d)) process.kill(process.pid, "SIGINT");
          else void follower.stream.write(d).catch(() => {});
        });
      }
      await new Promise<void>((resolve) => {
        const timer = duration ? setTimeout(resolve, duration * 1000) : undefined;
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        process.once("SIGINT", done);
        process.once("SIGTERM", done);
      });
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      await follower.stop();
      await close();
    });
}
