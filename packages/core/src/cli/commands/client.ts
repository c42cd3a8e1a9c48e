import type { Command } from "commander";
import { MtcClient } from "../../client/mtc-client.js";
import type { NodeActions } from "../../client/node-actions.js";
import { nodeActionsFor } from "../../client/node-actions-for.js";
import { writeProvisionedFlags } from "../../client/provisioned-flags.js";
import { nodePaths } from "../../config/paths.js";
import { createMetalContainer } from "../../di/container.js";
import { Tokens } from "../../di/tokens.js";
import { startAmonResponder } from "../../pmon/amon.js";
import { datagramAuthFor } from "../../transport/datagram-auth.js";
import { UdpTransport } from "../../transport/udp-transport.js";
import { loadRequiredCliConfig } from "../config-option.js";
import { CliError } from "../errors.js";
import { StopSignal } from "../stop-signal.js";

/** `metal client --config F`: run this node's mtcClient until SIGTERM/SIGINT. */
export function clientCommand(program: Command): void {
  program
    .command("client")
    .description("run the maintenance client (mtcClient) of this node: mtcAlive, agent commands, node-locked files, goenabled and host services")
    .option("-c, --config <file>", "metal config file (node, networks, ports, root); default $METAL_CONFIG")
    .option("--provisioned", "this node has no config tooling: write its missing provisioned flag files at start (as `metal node init`)")
    .action(async (opts: { config?: string; provisioned?: boolean }) => {
      // The handler goes in before anything slow (config, sockets, goenabled children): a SIGTERM during start-up
      // must stop the client, not be swallowed by a library's exit hook. It stays installed (repeats are ignored).
      const signal = new StopSignal();
      const config = await loadRequiredCliConfig(opts.config);
      if (opts.provisioned) {
        try {
          await writeProvisionedFlags(nodePaths(config.root), config.node.subfunctions);
        } catch (err) {
          throw new CliError(`client --provisioned: ${(err as Error).message}`, 1);
        }
      }
      const container = await createMetalContainer({ config, plugins: [] });
      const clock = container.resolve(Tokens.Clock);
      const logger = container.resolve(Tokens.Logger);
      let actions: NodeActions;
      try {
        actions = nodeActionsFor(config, clock, logger);
      } catch (err) {
        throw new CliError(`client: ${(err as Error).message}`, 1);
      }
      container.register(Tokens.NodeActions, { useValue: actions });
      let client: MtcClient;
      try {
        container.register(Tokens.Transport, { useValue: new UdpTransport({ auth: datagramAuthFor(config, logger) }) });
        client = new MtcClient({
          config,
          transport: container.resolve(Tokens.Transport),
          clock,
          logger,
          actions: container.resolve(Tokens.NodeActions),
          personalities: container.resolve(Tokens.PersonalityRegistry),
        });
        await client.start();
      } catch (err) {
        throw new CliError(`client: ${(err as Error).message}`, 1);
      }
      // pmond's active monitor pings mtcClient when its pmon.d conf says mode active.
      const amon = await startAmonResponder(config, "mtcClient", logger);
      // Sockets closed and timers cleared; goenabled/host-service children may still hold the loop: the process
      // exits once stopped (bounded: a stop that hangs is cut short).
      await signal.thenExit(
        "mtcClient",
        async () => {
          await amon?.close();
          await client.stop();
        },
        { log: logger },
      );
    });
}
