import { readFileSync, statSync } from "node:fs";
import { AUTH_MIN_KEY_BYTES, type AuthKey, authKey } from "../wire/authenticated.js";

/** Why a cluster key file was refused; `code` is stable, branch on it. */
export class ClusterKeyError extends Error {
  override readonly name = "ClusterKeyError";
  constructor(
    readonly code: "CLUSTER_KEY_MISSING" | "CLUSTER_KEY_UNSAFE" | "CLUSTER_KEY_INVALID",
    message: string,
  ) {
    super(message);
  }
}

/** The keys of a cluster key file: the first signs, all verify (two during a rotation). */
export interface ClusterKeys {
  signing: AuthKey;
  accepted: readonly AuthKey[];
}

const MAX_KEYS = 2;

/**
 * Read `security.clusterKeyFile`: one key per line as hex (at least 32 bytes = 64 hex digits; `openssl rand -hex 32`),
 * blank lines and `#` comments ignored, at most two keys. The first line signs what this node sends; every
 * line is accepted on receipt, which is how a key is rotated without a flag day (README "Authenticated control
 * traffic"). The file must be a regular file readable by its owner only (0600 or 0400) and owned by this
 * process's user. Throws ClusterKeyError (CLUSTER_KEY_MISSING, CLUSTER_KEY_UNSAFE, CLUSTER_KEY_INVALID); the
 * message never contains key material.
 */
export function loadClusterKeys(path: string): ClusterKeys {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw new ClusterKeyError("CLUSTER_KEY_MISSING", `security.clusterKeyFile ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!st.isFile()) throw new ClusterKeyError("CLUSTER_KEY_UNSAFE", `security.clusterKeyFile ${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new ClusterKeyError(
      "CLUSTER_KEY_UNSAFE",
      `security.clusterKeyFile ${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}; it must be 0600 or 0400 (chmod 600)`,
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new ClusterKeyError("CLUSTER_KEY_UNSAFE", `security.clusterKeyFile ${path} is owned by uid ${st.uid}, not by this user (${uid})`);
  const lines = readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  if (lines.length === 0) throw new ClusterKeyError("CLUSTER_KEY_INVALID", `security.clusterKeyFile ${path} holds no key`);
  if (lines.length > MAX_KEYS)
    throw new ClusterKeyError("CLUSTER_KEY_INVALID", `security.clusterKeyFile ${path} holds ${lines.length} keys; at most ${MAX_KEYS} (current, next)`);
  const keys = lines.map((line, i) => {
    if (!/^[0-9a-fA-F]+$/.test(line) || line.length % 2 !== 0 || line.length < AUTH_MIN_KEY_BYTES * 2) {
      throw new ClusterKeyError("CLUSTER_KEY_INVALID", `security.clusterKeyFile ${path} key ${i + 1}: want at least ${AUTH_MIN_KEY_BYTES * 2} hex digits`);
    }
    return authKey(Buffer.from(line, "hex"));
  });
  return { signing: keys[0] as AuthKey, accepted: keys };
}
