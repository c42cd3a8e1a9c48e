import { defaultConfig, type MetalConfig } from "../config/index.js";
import { loadConfigFile } from "../config/load.js";
import { CliError } from "./errors.js";

/** The environment variable every command reads when `-c/--config` is absent. */
export const METAL_CONFIG_ENV = "METAL_CONFIG";

/** The config a command runs with: the file given, else $METAL_CONFIG, else the reference defaults. */
export async function loadCliConfig(given: string | undefined): Promise<MetalConfig> {
  const file = given || process.env[METAL_CONFIG_ENV] || undefined;
  if (!file) return defaultConfig();
  try {
    return await loadConfigFile(file);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** The config of a daemon, which has no sensible defaults for this node: `-c FILE` or $METAL_CONFIG is required. */
export async function loadRequiredCliConfig(given: string | undefined): Promise<MetalConfig> {
  if (!given && !process.env[METAL_CONFIG_ENV]) throw new CliError(`no config: give -c/--config FILE or set ${METAL_CONFIG_ENV}`);
  return loadCliConfig(given);
}
