import type { Command } from "commander";
import { SystemClock } from "../../clock/system-clock.js";
import { runLab } from "../../lab/lab.js";
import { intOption, numberOption } from "../errors.js";

/** `metal lab`: the embedded lab, a controller and N simulated hosts on this machine. */
export function labCommand(program: Command): void {
  program
    .command("lab")
    .description("run the embedded lab: a controller and simulated hosts on loopback, with a live host table")
    .option("--hosts <n>", "number of simulated hosts", intOption("--hosts", 1, 254), 3)
    .option("--duration <s>", "stop after this many seconds (0 = until Ctrl-C)", numberOption("--duration", 0, 86_400), 0)
    .option("--speed <x>", "lab time runs this many times faster than real time", numberOption("--speed", 0.1, 1000), 1)
    .option("--json", "print the final host states as JSON instead of a live table")
    .option("--keep", "keep the per-host root directories")
    .action(async (opts: { hosts: number; duration: number; speed: number; json?: boolean; keep?: boolean }) => {
      const result = await runLab({
        hosts: opts.hosts,
        durationS: opts.duration,
        speed: opts.speed,
        json: Boolean(opts.json),
        keep: Boolean(opts.keep),
        clock: new SystemClock(),
        out: process.stdout,
      });
      if (!result.ok) {
        process.stderr.write(
          `metal lab: not every host registered (${result.rows
            .filter((r) => r.state !== "registered")
            .map((r) => r.hostname)
            .join(", ")})\n`,
        );
        process.exitCode = 1;
      }
    });
}
