import { realpathSync, statSync } from "node:fs";
import { isAbsolute, join, sep } from "node:path";

export interface SecretPolicy {
  /** `security.secretsDir`: where BMC password files live; bare names resolve here. */
  secretsDir?: string;
  /** `security.allowSecretPaths`: other directories or files allowed. */
  allowSecretPaths: readonly string[];
  /** The uid that must own secret files (the agent's user); default process.getuid(). */
  uid?: number;
}

/** The file a `bmc.secretRef` names: an absolute path as is, a bare name under secretsDir. */
export function secretRefPath(ref: string, policy: Pick<SecretPolicy, "secretsDir">): string | undefined {
  if (isAbsolute(ref)) return ref;
  return policy.secretsDir ? join(policy.secretsDir, ref) : undefined;
}

/**
 * Why a BMC secret reference is unacceptable, or undefined: the file must exist, be a regular file of mode
 * 0600 or 0400 owned by the agent's user, and (after resolving symlinks) sit under `secretsDir` or one of
 * `allowSecretPaths`. Without a secretsDir, only allowSecretPaths are accepted, so `/etc/shadow` never is.
 */
export function checkSecretRef(ref: string, policy: SecretPolicy): string | undefined {
  const path = secretRefPath(ref, policy);
  if (!path) return "a bare secret name needs security.secretsDir";
  let real: string;
  let st: ReturnType<typeof statSync>;
  try {
    real = realpathSync(path);
    st = statSync(real);
  } catch (err) {
    return `${path}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`;
  }
  const roots = [policy.secretsDir, ...policy.allowSecretPaths].filter((r): r is string => !!r).map((r) => realOr(r));
  if (!roots.some((r) => real === r || real.startsWith(r.endsWith(sep) ? r : `${r}${sep}`)))
    return `${path} is outside security.secretsDir${policy.allowSecretPaths.length ? " and security.allowSecretPaths" : ""}`;
  if (!st.isFile()) return `${path} is not a regular file`;
  const mode = st.mode & 0o777;
  if (mode !== 0o600 && mode !== 0o400) return `${path} has mode ${mode.toString(8)}; it must be 600 or 400`;
  const uid = policy.uid ?? process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `${path} is owned by uid ${st.uid}, not the agent's user (${uid})`;
  return undefined;
}

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
