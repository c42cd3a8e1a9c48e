import { existsSync } from "node:fs";
import { nodePaths } from "./paths.js";
import type { MetalConfig } from "./schema.js";

/**
 * SIMPLEX (reference §1.5 MTC_MSG_LOCKED, §5): the system is still simplex while `/etc/platform/simplex` exists on the
 * controller — an AIO-SX always, and any system whose second controller has never been configured. The persistent
 * node-locked file (LOCK_PERSIST) is only asked for when it is not. The reference reads the file, not the system
 * type: a standard or duplex system with one controller so far is simplex too.
 */
export function systemIsSimplex(config: Pick<MetalConfig, "root" | "system">): boolean {
  return config.system.type === "aio-sx" || existsSync(nodePaths(config.root).simplex);
}

/** The LOCKED command's parm[0]: 1 (LOCK_PERSIST) unless the system is simplex. */
export function lockPersistParm(config: Pick<MetalConfig, "root" | "system">): number {
  return systemIsSimplex(config) ? 0 : 1;
}
