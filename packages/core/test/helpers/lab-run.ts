import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { LabResult } from "../../src/lab/maintenance-lab.js";

const main = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "src", "cli", "main.js");

/** Run `metal lab --json --settle ARGS` as a process; the parsed report, the exit code and stderr. */
export async function runLab(args: string[], timeoutMs = 240_000): Promise<{ exitCode: number; result: LabResult; stderr: string }> {
  const r = await execa(process.execPath, [main, "lab", "--json", "--settle", ...args], { reject: false, timeout: timeoutMs });
  let result: LabResult;
  try {
    result = JSON.parse(r.stdout) as LabResult;
  } catch {
    throw new Error(`lab printed no JSON (exit ${r.exitCode}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  }
  return { exitCode: r.exitCode ?? -1, result, stderr: r.stderr };
}

/** admin-oper-avail of a host in the report. */
export const labState = (r: LabResult, host: string): string => {
  const h = r.hosts.find((x) => x.hostname === host);
  return h ? `${h.administrative}-${h.operational}-${h.availability}` : "missing";
};

/** The host went through this state at some point (the 200.022 history). */
export const labWent = (r: LabResult, host: string, s: string): boolean => r.history.some((e) => e.host === host && e.text.includes(`'${s}'`));

/** Lab seconds of the first history entry of `host` containing `text` at or after `fromS`. */
export const labWhen = (r: LabResult, host: string, text: string, fromS = 0): number | undefined =>
  r.history.find((e) => e.host === host && e.atS >= fromS && e.text.includes(text))?.atS;
