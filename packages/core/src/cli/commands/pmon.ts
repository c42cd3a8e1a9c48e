import Table from "cli-table3";
import type { Command } from "commander";
import { runHostwdDaemon, runPmondDaemon } from "../../pmon/daemon.js";
import { pmonPaths } from "../../pmon/paths.js";
import { installConfs, PMON_PERSONALITIES, type PmonPersonality } from "../../pmon/personality-confs.js";
import { queryPmonStatus } from "../../pmon/status-client.js";
import { loadCliConfig } from "../config-option.js";
import { CliError } from "../errors.js";

/**
 * The subcommands read their options with the parent's (`optsWithGlobals`): `pmon` itself takes `--config`, so
 * commander hands `metal pmon status --config F` to the parent, and the subcommand alone would see no config (and
 * install-conf would write the real /etc/pmon.d).
 *
 * `metal pmon --config F` (pmond), `metal pmon status [--json]`, `metal pmon install-conf --personality P`,
 * and `metal hostwd --config F` (the host watchdog). Reference mtce-core.md §9.
 */
export function pmonCommand(program: Command): void {
  const pmon = program
    .command("pmon")
    .description("run the process monitor (pmond) of this node: watch the processes of <root>/etc/pmon.d, restart them, raise process alarms")
    .option("-c, --config <file>", "metal config file")
    .action(async (opts: { config?: string }) => {
      const cfg = await loadCliConfig(opts.config);
      await runPmondDaemon(cfg).catch((err: Error) => {
        throw new CliError(`pmon: ${err.message}`, 1);
      });
    });

  pmon
    .command("status")
    .description("every monitored process with its mode, pid, state, restarts, severity and alarm (asks the running pmond)")
    .option("-c, --config <file>", "metal config file (for the status socket)")
    .option("--json", "print JSON")
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string; json?: boolean }>();
      const cfg = await loadCliConfig(opts.config);
      const status = await queryPmonStatus(pmonPaths(cfg).statusSocket).catch((err: Error) => {
        throw new CliError(err.message, 1);
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      const t = new Table({ head: ["process", "mode", "pid", "state", "restarts", "severity", "alarm", "reason"], style: { head: [], border: [] } });
      for (const p of status.processes) t.push([p.process, p.mode, p.pid ?? "-", p.state, p.restarts, p.severity, p.alarm ?? "-", p.reason ?? ""]);
      process.stdout.write(
        `pmond on ${status.hostname}: monitoring ${status.monitoring ? "started" : "waiting for goenabled + start delay"}, quorum ${status.quorum}\n${t.toString()}\n`,
      );
    });

  pmon
    .command("install-conf")
    .description("write the default pmon.d confs of a personality (mtcClient, hbsClient; hbsAgent on controllers; guestServer on workers)")
    .requiredOption("--personality <p>", `one of ${PMON_PERSONALITIES.join(", ")}`)
    .option("-c, --config <file>", "metal config file (root and pmon.confDir say where)")
    .option("--dir <dir>", "write here instead of <root>/etc/pmon.d")
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ personality: string; config?: string; dir?: string }>();
      if (!(PMON_PERSONALITIES as readonly string[]).includes(opts.personality))
        throw new CliError(`--personality '${opts.personality}': one of ${PMON_PERSONALITIES.join(", ")}`);
      const cfg = await loadCliConfig(opts.config);
      const dir = opts.dir ?? pmonPaths(cfg).confDir;
      for (const f of installConfs(dir, opts.personality as PmonPersonality)) process.stdout.write(`${f}\n`);
    });

  program
    .command("hostwd")
    .description("run the host watchdog of this node: take pmond's quorum reports, pet the watchdog device, act on a stall")
    .option("-c, --config <file>", "metal config file")
    .action(async (opts: { config?: string }) => {
      const cfg = await loadCliConfig(opts.config);
      await runHostwdDaemon(cfg).catch((err: Error) => {
        throw new CliError(`hostwd: ${err.message}`, 1);
      });
    });
}
