import { defaultConfig, type MetalConfig } from "../config/index.js";
import { loadConfigFile } from "../config/load.js";
import { CliError } from "./errors.js";

/** The config a command runs with: the file given, or the reference defaults. */
export async function loadCliConfig(file: string | undefined): Promise<MetalConfig> {
  if (!file) return defaultConfig();
  try {
    return await loadConfigFile(file);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
