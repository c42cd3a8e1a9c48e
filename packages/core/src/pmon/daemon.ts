/**
 * Running pmond and hostwd from the CLI: config in, started, SIGTERM/SIGINT stop them and the process exits 0
 * within 2 s (a stop that hangs is cut short). A daemon that cannot start throws; the CLI prints one line and
 * exits non-zero.
 */
import type { NodeActions } from "../client/node-actions.js";
import { nodeActionsFor } from "../client/node-actions-for.js";
import { SystemClock } from "../clock/system-clock.js";
import type { MetalConfig } from "../config/schema.js";
import { createLogger } from "../logging/logger.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import { Hostwd } from "./hostwd.js";
import { Pmond } from "./pmond.js";

/** The longest a stop may take before the process exits anyway. */
const STOP_LIMIT_MS = 1500;

function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const quit = () => {
      process.off("SIGTERM", quit);
      process.off("SIGINT", quit);
      const limit = setTimeout(resolve, STOP_LIMIT_MS);
      limit.unref();
      stop().then(
        () => {
          clearTimeout(limit);
          resolve();
        },
        () => resolve(),
      );
    };
    process.on("SIGTERM", quit);
    process.on("SIGINT", quit);
  });
}

export async function runPmondDaemon(config: MetalConfig, clock: Clock = new SystemClock()): Promise<void> {
  const logger = createLogger({ level: config.logging.level, pretty: config.logging.pretty, name: `pmond:${config.node.hostname}` });
  const pmond = new Pmond({ config, clock, logger });
  await pmond.start();
  await untilSignal(() => pmond.stop());
}

/** The node actions hostwd's action goes through: systemd, or the lab's simulated machine inside the lab (nodeActionsFor). */
export function hostwdActions(config: MetalConfig, clock: Clock, logger: Logger): NodeActions {
  return nodeActionsFor(config, clock, logger);
}

export async function runHostwdDaemon(config: MetalConfig, clock: Clock = new SystemClock()): Promise<void> {
  const logger = createLogger({ level: config.logging.level, pretty: config.logging.pretty, name: `hostwd:${config.node.hostname}` });
  const hostwd = new Hostwd({ config, clock, logger, actions: hostwdActions(config, clock, logger) });
  await hostwd.start();
  await untilSignal(() => hostwd.stop());
}
