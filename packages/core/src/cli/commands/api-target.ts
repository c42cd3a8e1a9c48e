import type { Command } from "commander";
import { ApiClient, ApiError } from "../../api/client.js";
import { secretFromFile } from "../../di/secret.js";
import { loadCliConfig } from "../config-option.js";
import { CliError } from "../errors.js";

export interface ApiTargetOptions {
  url?: string;
  config?: string;
  tokenFile?: string;
}

/** The options every API-backed command takes: where the mtcAgent API is and the token for mutations. */
export function withApiTarget(cmd: Command): Command {
  return cmd
    .option("--url <url>", "mtcAgent API base URL (default: $METAL_URL, else http://<api.address>:<api.port> from the config)")
    .option("-c, --config <file>", "metal config file (api.address, api.port, api.tokenFile); default $METAL_CONFIG")
    .option("--token-file <file>", "file holding the API token (mode 0600); default $METAL_TOKEN_FILE, else api.tokenFile");
}

/**
 * The API client for a command: flags first, then the environment `metal lab` prints (METAL_URL,
 * METAL_TOKEN_FILE, METAL_CONFIG), then the config file. The token is read only for a mutation.
 */
export async function apiClient(o: ApiTargetOptions, mutate: boolean): Promise<ApiClient> {
  const config = await loadCliConfig(o.config);
  const url =
    o.url || process.env.METAL_URL || `http://${config.api.address.includes(":") ? `[${config.api.address}]` : config.api.address}:${config.api.port}`;
  if (!/^https?:\/\//.test(url)) throw new CliError(`--url must start with http:// or https:// (got '${url}')`);
  const tokenFile = o.tokenFile || process.env.METAL_TOKEN_FILE || config.api.tokenFile;
  let token: string | undefined;
  if (mutate && tokenFile) {
    try {
      token = secretFromFile(tokenFile).reveal();
    } catch (err) {
      throw new CliError(`token file: ${(err as Error).message}`);
    }
  }
  return new ApiClient(url.replace(/\/$/, ""), token);
}

/** Run an API call, turning its failure into a one-line CLI error (exit 1). */
export async function callApi<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(err.message, 1);
    throw err;
  }
}
