import { CliError } from "@metal/core/cli/errors";
import cliProgress from "cli-progress";

/**
 * A progress bar on stderr for long runs. `auto` shows it only on a terminal and only for large systems,
 * so scripted runs and small host lists stay quiet; `always` also draws on a pipe (one line per update).
 */
export type ProgressMode = "auto" | "always" | "never";

export const LARGE_SYSTEM = 200;

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function progressBar(what: string, total: number, mode: ProgressMode): Progress {
  const show = mode === "always" || (mode === "auto" && process.stderr.isTTY === true && total >= LARGE_SYSTEM);
  if (!show) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${what} [{bar}] {value}/{total} {percentage}% eta {eta}s`,
      noTTYOutput: mode === "always",
      notTTYSchedule: 500,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}

/** Parse --progress auto|always|never. */
export function progressMode(value: string | undefined): ProgressMode {
  if (value === undefined || value === "auto" || value === "always" || value === "never") return value ?? "auto";
  throw new CliError(`--progress must be auto, always or never (got '${value}')`);
}
