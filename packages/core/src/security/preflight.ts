import { isIP } from "node:net";
import type { MetalConfig } from "../config/schema.js";
import type { Secret } from "../plugin-api/secret.js";
import { readTokenFile } from "./token-file.js";

/** True for 127.0.0.0/8, ::1 (also v4-mapped) and "localhost". */
export function isLoopbackAddress(address: string): boolean {
  const a = address.replace(/^::ffff:/i, "");
  if (a === "localhost" || a === "::1") return true;
  return isIP(a) === 4 && a.startsWith("127.");
}

/** Why the agent must not start, as one line, with a stable code. */
export class PreflightError extends Error {
  override readonly name = "PreflightError";
  constructor(
    readonly code: "API_REMOTE_NOT_ALLOWED" | "TOKEN_FILE",
    message: string,
  ) {
    super(message);
  }
}

/**
 * What `metal agent` checks before it binds anything: the REST API stays on loopback unless `api.allowRemote`
 * says otherwise, and a configured token file is private (0600/0400), present and not blank.
 * Returns the token (undefined when no token file is configured: mutations are then refused).
 * @throws PreflightError
 */
export function agentPreflight(config: MetalConfig): { token: Secret | undefined } {
  const api = config.api;
  if (!isLoopbackAddress(api.address) && !api.allowRemote)
    throw new PreflightError("API_REMOTE_NOT_ALLOWED", `api.address ${api.address} is not loopback; set api.allowRemote: true to serve the API there`);
  if (!api.tokenFile) return { token: undefined };
  try {
    return { token: readTokenFile(api.tokenFile) };
  } catch (err) {
    throw new PreflightError("TOKEN_FILE", (err as Error).message);
  }
}
