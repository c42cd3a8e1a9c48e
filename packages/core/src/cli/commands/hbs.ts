import type { Command } from "commander";
import { runHbsAgentDaemon, runHbsClientDaemon } from "../../heartbeat/daemon.js";
import { clusterRows, formatClusterView, queryCluster } from "../../heartbeat/sm-query.js";
import { loadCliConfig } from "../config-option.js";
import { CliError, numberOption } from "../errors.js";
import { type OutputOptions, outputFormat, printList, withOutputOptions } from "../output.js";

/**
 * `metal hbs-agent --config F` and `metal hbs-client --config F` (the heartbeat daemons), and
 * `metal hbs cluster [--json]`: the cluster view of the hbsAgent running on this host, asked the way SM asks.
 */
export function hbsCommand(program: Command): void {
  program
    .command("hbs-agent")
    .description("run the heartbeat agent (both controllers): pulse requests, miss counting, events, the cluster vault for SM")
    .option("-c, --config <file>", "metal config file (default $METAL_CONFIG)")
    .action(async (opts: { config?: string }) => {
      const cfg = await loadCliConfig(opts.config);
      await runHbsAgentDaemon(cfg).catch((err: Error) => {
        throw new CliError(`hbs-agent: ${err.message}`, 1);
      });
    });

  program
    .command("hbs-client")
    .description("run the heartbeat client (every host): answer the controllers' pulse requests")
    .option("-c, --config <file>", "metal config file (default $METAL_CONFIG)")
    .action(async (opts: { config?: string }) => {
      const cfg = await loadCliConfig(opts.config);
      await runHbsClientDaemon(cfg).catch((err: Error) => {
        throw new CliError(`hbs-client: ${err.message}`, 1);
      });
    });

  const hbs = program.command("hbs").description("heartbeat service tools");
  withOutputOptions(
    hbs
      .command("cluster")
      .description(
        "print the heartbeat cluster view of the hbsAgent on this host: per controller and network, hosts enabled vs responding in the last 20 periods",
      ),
  )
    .option("-c, --config <file>", "metal config file (for the SM ports; default $METAL_CONFIG)")
    .option("--timeout <seconds>", "how long to wait for the agent", numberOption("--timeout", 0.1, 60), 2)
    .action(async (opts: OutputOptions & { config?: string; timeout: number }) => {
      const cfg = await loadCliConfig(opts.config);
      let vault: Awaited<ReturnType<typeof queryCluster>>;
      try {
        vault = await queryCluster({ serverPort: cfg.ports.smServer, clientPort: cfg.ports.smClient, timeoutMs: Math.round(opts.timeout * 1000) });
      } catch (err) {
        throw new CliError((err as Error).message, 1);
      }
      const fmt = outputFormat(opts);
      const rows = clusterRows(vault);
      if (fmt === "json" && !opts.column?.length) process.stdout.write(`${JSON.stringify({ ...vault, rows }, null, 2)}\n`);
      else if (fmt === "table" && !opts.column?.length) process.stdout.write(`${formatClusterView(vault)}\n`);
      else printList(opts, rows as unknown as Array<Record<string, unknown>>, Object.keys(rows[0] ?? {}));
    });
}
