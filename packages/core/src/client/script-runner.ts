import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";

/** MAX_RUN_SCRIPTS: at most this many scripts of a directory run. */
export const MAX_RUN_SCRIPTS = 20;

export interface ScriptOutcome {
  script: string;
  /** Exit code; 126/127 when the file could not be executed. */
  rc: number;
  timedOut: boolean;
}

export interface ScriptsResult {
  outcomes: ScriptOutcome[];
  /** The first failure in name order, as the reference reports it: "<script> (rc:N)" or "<script> (timeout)". */
  failure?: string;
}

/** The regular files of a directory, sorted, capped at MAX_RUN_SCRIPTS. A missing directory has no scripts. */
export async function listScripts(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const n of names.sort()) {
    const st = await stat(join(dir, n)).catch(() => undefined);
    if (st?.isFile()) files.push(n);
  }
  return files.slice(0, MAX_RUN_SCRIPTS);
}

/**
 * Run every script of `dir` in parallel with `args` (mtcNodeComp.cpp: run_goenabled_scripts /
 * run_hostservices_scripts), each bounded by `timeoutMs`. Never throws.
 */
export async function runScripts(dir: string, args: readonly string[], timeoutMs: number, env: Record<string, string> = {}): Promise<ScriptsResult> {
  const scripts = await listScripts(dir);
  const outcomes = await Promise.all(
    scripts.map(async (script): Promise<ScriptOutcome> => {
      const r = await execa(join(dir, script), [...args], {
        reject: false,
        timeout: timeoutMs,
        forceKillAfterDelay: 2_000,
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
        env,
      });
      if (r.timedOut) return { script, rc: -1, timedOut: true };
      const rc = r.exitCode ?? (r.code === "EACCES" ? 126 : 127);
      return { script, rc, timedOut: false };
    }),
  );
  const bad = outcomes.find((o) => o.timedOut || o.rc !== 0);
  return { outcomes, ...(bad ? { failure: bad.timedOut ? `${bad.script} (timeout)` : `${bad.script} (rc:${bad.rc})` } : {}) };
}
