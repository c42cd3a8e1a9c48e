import type { Command } from "commander";
import { startMtcAgent } from "../../agent/daemon.js";
import { loadRequiredCliConfig } from "../config-option.js";
import { CliError } from "../errors.js";
import { StopSignal } from "../stop-signal.js";

/** `metal agent --config F`: run mtcAgent (maintenance FSMs, alarms, REST API) until SIGTERM/SIGINT. */
export function agentCommand(program: Command): void {
  program
    .command("agent")
    .description("run the maintenance agent (mtcAgent): host FSMs, alarms, REST API")
    .option("-c, --config <file>", "metal config file; default $METAL_CONFIG")
    .action(async (opts: { config?: string }) => {
      // Installed before anything slow and kept: a repeated signal is ignored, and execa's exit hook (for an
      // ipmitool still running) never re-raises it and kills the agent before it flushed.
      const signal = new StopSignal();
      const config = await loadRequiredCliConfig(opts.config);
      let running: Awaited<ReturnType<typeof startMtcAgent>>;
      try {
        running = await startMtcAgent(config);
      } catch (err) {
        throw new CliError(`agent: ${(err as Error).message}`, 1);
      }
      // SIGHUP reloads what is safe to change live; a config that does not load is reported and ignored.
      process.on("SIGHUP", () => {
        loadRequiredCliConfig(opts.config).then(
          (next) => running.reload(next),
          (err: unknown) => process.stderr.write(`metal: agent: SIGHUP: config not reloaded: ${(err as Error).message}\n`),
        );
      });
      // SIGTERM: the API closes, in-flight BMC children are killed, dirty host state is flushed; exit 0.
      await signal.thenExit("mtcAgent", () => running.stop());
    });
}
