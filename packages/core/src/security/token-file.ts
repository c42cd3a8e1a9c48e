import { readFileSync, statSync } from "node:fs";
import { secretFromString } from "../di/secret.js";
import { hasControl } from "../inventory/record-schema.js";
import type { Secret } from "../plugin-api/secret.js";

/** Why a token or secret file is refused; stable codes. */
export type SecretFileErrorCode = "SECRET_MISSING" | "SECRET_MODE" | "SECRET_OWNER" | "SECRET_EMPTY" | "SECRET_NOT_FILE";

export class SecretFileError extends Error {
  override readonly name = "SecretFileError";
  constructor(
    readonly code: SecretFileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Read the API bearer token (api.tokenFile): a regular file of mode 0600 or 0400 (no group or other bits),
 * holding a non-blank token. An empty or whitespace-only file must never mean "no authentication".
 * @throws SecretFileError naming the file and the problem.
 */
export function readTokenFile(path: string): Secret {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw new SecretFileError("SECRET_MISSING", `token file ${path}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  if (!st.isFile()) throw new SecretFileError("SECRET_NOT_FILE", `token file ${path}: not a regular file`);
  if ((st.mode & 0o077) !== 0)
    throw new SecretFileError("SECRET_MODE", `token file ${path}: mode ${(st.mode & 0o777).toString(8)} is group/world accessible; use chmod 600`);
  const text = readFileSync(path, "utf8").replace(/\r?\n$/, "");
  if (text.trim() === "") throw new SecretFileError("SECRET_EMPTY", `token file ${path}: empty; it must hold the bearer token`);
  if (text.length > 4096 || /\s/.test(text) || hasControl(text))
    throw new SecretFileError("SECRET_EMPTY", `token file ${path}: a token is one line without spaces or control characters`);
  return secretFromString(text);
}
