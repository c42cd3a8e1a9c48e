/**
 * Running pmond and hostwd from the CLI: config in, started, SIGTERM/SIGINT stop them and the process exits 0
 * within 2 s (cli/stop-signal.ts: a stop that hangs is cut short). A daemon that cannot start throws; the CLI
 * prints one line and exits non-zero.
 */
import { StopSignal } from "../cli/stop-signal.js";
import type { NodeActions } from "../client/node-actions.js";
import { nodeActionsFor } from "../client/node-actions-for.js";
import { SystemClock } from "../clock/system-clock.js";
import type { MetalConfig } from "../config/schema.js";
import { createLogger } from "../logging/logger.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import { Hostwd } from "./hostwd.js";
import { Pmond } from "./pmond.js";

/** Run pmond until SIGTERM/SIGINT, then exit the process. */
export async function runPmondDaemon(config: MetalConfig, clock: Clock = new SystemClock()): Promise<void> {
  const signal = new StopSignal();
  const logger = createLogger({ level: config.logging.level, pretty: config.logging.pretty, name: `pmond:${config.node.hostname}` });
  const pmond = new Pmond({ config, clock, logger });
  await pmond.start();
  await signal.thenExit("pmond", () => pmond.stop(), { log: logger });
}

/** The node actions hostwd's action goes through: systemd, or the lab's simulated machine inside the lab (nodeActionsFor). */
export function hostwdActions(config: MetalConfig, clock: Clock, logger: Logger): NodeActions {
  return nodeActionsFor(config, clock, logger);
}

/** Run hostwd until SIGTERM/SIGINT, then exit the process. */
export async function runHostwdDaemon(config: MetalConfig, clock: Clock = new SystemClock()): Promise<void> {
  const signal = new StopSignal();
  const logger = createLogger({ level: config.logging.level, pretty: config.logging.pretty, name: `hostwd:${config.node.hostname}` });
  const hostwd = new Hostwd({ config, clock, logger, actions: hostwdActions(config, clock, logger) });
  await hostwd.start();
  await signal.thenExit("hostwd", () => hostwd.stop(), { log: logger });
}
