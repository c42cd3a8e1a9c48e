import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The path of a fixture under test/fixtures (tests run from dist/test). */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
}

export function fixture(name: string): string {
  return readFileSync(fixturePath(name), "utf8");
}

/**
 * A stand-in ipmitool that answers run N with `script[N]` (the last entry repeats): `err` text goes to stderr
 * with exit 1, `out` text to stdout with exit 0. Every run appends "run" to `log`.
 */
export function scriptedIpmitool(script: Array<{ out: string } | { err: string }>): { path: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), "metal-fakeipmitool-"));
  const path = join(dir, "ipmitool");
  const log = join(dir, "log");
  for (const [i, step] of script.entries()) writeFileSync(join(dir, `step-${i}`), "out" in step ? step.out : step.err);
  const cases = script.map((step, i) => `  ${i + 1}) cat "${dir}/step-${i}" ${"err" in step ? ">&2; exit 1" : "; exit 0"} ;;`).join("\n");
  const last = script.length - 1;
  const lastStep = script[last]!;
  writeFileSync(
    path,
    `#!/bin/sh
echo run >> "${log}"
n=$(grep -c run "${log}")
case "$n" in
${cases}
  *) cat "${dir}/step-${last}" ${"err" in lastStep ? ">&2; exit 1" : "; exit 0"} ;;
esac
`,
  );
  chmodSync(path, 0o755);
  return { path, log };
}

export function runs(log: string): number {
  try {
    return readFileSync(log, "utf8").trim().split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}
