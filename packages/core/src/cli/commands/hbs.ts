import type { Command } from "commander";
import { runHbsAgentDaemon, runHbsClientDaemon } from "../../heartbeat/daemon.js";
import { clusterRows, formatClusterView, queryCluster } from "../../heartbeat/sm-query.js";
import { loadCliConfig } from "../config-option.js";
import { CliError, intOption } from "../errors.js";

/**
 * `metal hbs-agent --config F` and `metal hbs-client --config F` (the heartbeat daemons), and
 * `metal hbs cluster [--json]`: the cluster view of the hbsAgent running on this host, asked the way SM asks.
 */
export function hbsCommand(program: Command): void {
  program
    .command("hbs-agent")
    .description("run the heartbeat agent (both controllers): pulse requests, miss counting, events, the cluster vault for SM")
    .option("--config <file>", "metal config file")
    .action(async (opts: { config?: string }) => {
      const cfg = await loadCliConfig(opts.config);
      await runHbsAgentDaemon(cfg).catch((err: Error) => {
        throw new CliError(`hbs-agent: ${err.message}`, 1);
      });
    });

  program
    .command("hbs-client")
    .description("run the heartbeat client (every host): answer the controllers' pulse requests")
    .option("--config <file>", "metal config file")
    .action(async (opts: { config?: string }) => {
      const cfg = await loadCliConfig(opts.config);
      await runHbsClientDaemon(cfg).catch((err: Error) => {
        throw new CliError(`hbs-client: ${err.message}`, 1);
      });
    });

  const hbs = program.command("hbs").description("heartbeat service tools");
  hbs
    .command("cluster")
    .description(
      "print the heartbeat cluster view of the hbsAgent on this host: per controller and network, hosts enabled vs responding in the last 20 periods",
    )
    .option("--config <file>", "metal config file (for the SM ports)")
    .option("--json", "print the vault as JSON")
    .option("--timeout <ms>", "how long to wait for the agent", intOption("--timeout", 100, 60_000), 2000)
    .action(async (opts: { config?: string; json?: boolean; timeout: number }) => {
      const cfg = await loadCliConfig(opts.config);
      let vault: Awaited<ReturnType<typeof queryCluster>>;
      try {
        vault = await queryCluster({ serverPort: cfg.ports.smServer, clientPort: cfg.ports.smClient, timeoutMs: opts.timeout });
      } catch (err) {
        throw new CliError((err as Error).message, 1);
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...vault, rows: clusterRows(vault) }, null, 2)}\n`);
      } else {
        process.stdout.write(`${formatClusterView(vault)}\n`);
      }
    });
}
