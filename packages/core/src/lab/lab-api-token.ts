import { randomBytes } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { secretFromString } from "../di/secret.js";
import type { Secret } from "../plugin-api/secret.js";

/**
 * The lab's REST API token: 32 random bytes as hex, written to `<dir>/api-token` with mode 0600 (created with
 * that mode, so it is never readable by others even for a moment). The lab's API takes mutations with it; the
 * operator's `metal host-*` commands read it through METAL_TOKEN_FILE. Returns the file and the secret.
 */
export function writeLabApiToken(dir: string): { file: string; token: Secret } {
  const file = join(dir, "api-token");
  const value = randomBytes(32).toString("hex");
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { file, token: secretFromString(value) };
}

/** The one shell line that points every client command at the lab: `export METAL_URL=... METAL_TOKEN_FILE=...`. */
export function labEnvLine(url: string, tokenFile: string): string {
  return `export METAL_URL=${shellWord(url)} METAL_TOKEN_FILE=${shellWord(tokenFile)}`;
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
