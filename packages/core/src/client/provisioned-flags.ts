import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { NodePaths } from "../config/paths.js";

/**
 * The flag files a provisioned node has before mtcClient can enable it (reference mtce-core.md §5, the flag
 * table): on a real node the config tooling writes them at every boot: puppet the initial-config, config-pass and
 * `.<function>_config_complete` files, goenabled.service `/var/run/.goenabled`, goenabledWorker
 * `/var/run/.goenabled_subf`. Without them the mtcAlive lacks CONFIGURED/HEALTHY and the goenabled tests never
 * run, so an unlock never completes. Returns the paths, in the order a boot writes them.
 */
export function provisionedFlagFiles(paths: NodePaths, subfunctions: readonly string[]): string[] {
  const files = [paths.initialConfigComplete, paths.configPass];
  if (subfunctions.includes("controller")) files.push(paths.controllerConfigComplete);
  if (subfunctions.includes("storage")) files.push(paths.storageConfigComplete);
  files.push(paths.goenabledMainReady);
  if (subfunctions.includes("worker")) files.push(paths.workerConfigComplete, paths.goenabledSubfReady);
  return files;
}

/**
 * Write the provisioned flag files that are missing (empty files, their directories made). `.config_fail`
 * present means the node's config failed: nothing is written and the reason is thrown, as a provisioned-looking
 * node must not hide a failed configuration. Returns the files written. Throws on a file system error.
 */
export async function writeProvisionedFlags(paths: NodePaths, subfunctions: readonly string[]): Promise<string[]> {
  if (existsSync(paths.configFail)) throw new Error(`${paths.configFail} exists: this node's configuration failed; fix it rather than mark it provisioned`);
  const written: string[] = [];
  for (const f of provisionedFlagFiles(paths, subfunctions)) {
    if (existsSync(f)) continue;
    await mkdir(dirname(f), { recursive: true });
    await writeFile(f, "", { mode: 0o644 });
    written.push(f);
  }
  return written;
}
