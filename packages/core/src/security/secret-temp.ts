import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A private temp dir for a secret handed to a child (ipmitool -f): `<tmp>/<prefix><pid>-XXXXXX`, 0700. The pid
 * in the name lets the next start remove what a process killed with -9 left behind (`sweepSecretTempDirs`).
 */
export function secretTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}${process.pid}-`));
}

/**
 * Remove `<tmp>/<prefix>*` dirs left by dead processes: those whose pid is no longer running, and dirs of the
 * old unnamed layout older than `legacyAgeMs`. Live processes' dirs are kept. Returns the removed paths.
 */
export function sweepSecretTempDirs(prefix: string, legacyAgeMs = 10 * 60_000): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const path = join(tmpdir(), name);
    const m = /^(\d+)-/.exec(name.slice(prefix.length));
    let stale: boolean;
    if (m) stale = !alive(Number(m[1]));
    else {
      try {
        stale = Date.now() - statSync(path).mtimeMs > legacyAgeMs;
      } catch {
        continue;
      }
    }
    if (!stale) continue;
    try {
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // not ours (another user's), or already gone
    }
  }
  return removed;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
