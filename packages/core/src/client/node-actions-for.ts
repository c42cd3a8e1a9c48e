import { nodePaths } from "../config/paths.js";
import type { MetalConfig } from "../config/schema.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import { LAB_REBOOT_EXIT_CODE, LabNodeActions } from "./lab-node-actions.js";
import type { NodeActions } from "./node-actions.js";
import { SystemdNodeActions } from "./systemd-node-actions.js";

/**
 * Set by whatever starts a `messaging.nodeActions: lab` daemon and brings it back when it exits with
 * LAB_REBOOT_EXIT_CODE (the lab, a test playing the lab). Any non-empty value.
 */
export const LAB_SUPERVISOR_ENV = "METAL_LAB_SUPERVISOR";

/**
 * The node actions (reboot, reset, wipedisk, ...) of a daemon: systemd on a real node; the lab's simulated
 * machine only inside the lab, since its "reboot" just ends the process for the lab to restart. Throws an Error
 * with the reason when `nodeActions: lab` is configured but nothing supervises this process
 * (LAB_SUPERVISOR_ENV unset): a reboot command would otherwise leave the node dead.
 */
export function nodeActionsFor(config: MetalConfig, clock: Clock, logger: Logger, env: NodeJS.ProcessEnv = process.env): NodeActions {
  if (config.messaging.nodeActions !== "lab") return new SystemdNodeActions(logger);
  if (!env[LAB_SUPERVISOR_ENV]) {
    throw new Error(
      `messaging.nodeActions: lab is only for hosts the lab starts (${LAB_SUPERVISOR_ENV} unset): a reboot would end this process with exit ${LAB_REBOOT_EXIT_CODE} and nothing would start it again; use nodeActions: systemd on a real node`,
    );
  }
  return new LabNodeActions(nodePaths(config.root), clock, logger);
}
