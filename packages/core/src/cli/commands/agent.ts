import type { Command } from "commander";
import { startMtcAgent } from "../../agent/daemon.js";
import { loadRequiredCliConfig } from "../config-option.js";
import { CliError } from "../errors.js";

/** `metal agent --config F`: run mtcAgent (maintenance FSMs, alarms, REST API) until SIGTERM/SIGINT. */
export function agentCommand(program: Command): void {
  program
    .command("agent")
    .description("run the maintenance agent (mtcAgent): host FSMs, alarms, REST API")
    .option("-c, --config <file>", "metal config file; default $METAL_CONFIG")
    .action(async (opts: { config?: string }) => {
      const config = await loadRequiredCliConfig(opts.config);
      let running: Awaited<ReturnType<typeof startMtcAgent>>;
      try {
        running = await startMtcAgent(config);
      } catch (err) {
        throw new CliError(`agent: ${(err as Error).message}`, 1);
      }
      // Our handler stays installed (a repeated signal is ignored): with none of ours left, execa's cleanup handler
      // (for an ipmitool still running) would re-raise the signal and kill the agent before it flushed.
      await new Promise<void>((resolve) => {
        let stopping = false;
        const quit = () => {
          if (stopping) return;
          stopping = true;
          running.stop().then(resolve, resolve);
        };
        process.on("SIGTERM", quit);
        process.on("SIGINT", quit);
        // SIGHUP reloads what is safe to change live; a config that does not load is reported and ignored.
        process.on("SIGHUP", () => {
          loadRequiredCliConfig(opts.config).then(
            (next) => running.reload(next),
            (err: unknown) => process.stderr.write(`metal: agent: SIGHUP: config not reloaded: ${(err as Error).message}\n`),
          );
        });
      });
    });
}
