import { readFile, writeFile } from "node:fs/promises";
import { CliError } from "@metal/core/cli/errors";
import type { Command } from "commander";
import { parseTraits } from "../hosts/traits.js";
import { checkKickstart } from "../kickstart/check.js";
import { loadProfile } from "../kickstart/profile.js";
import { renderKickstart } from "../kickstart/render.js";

/** `metal bsp kickstart --traits T [--profile F] --out FILE`, or `--check FILE`. */
export function kickstartCommand(bsp: Command): void {
  bsp
    .command("kickstart")
    .description("write the LAT kickstart for install traits and a hardware profile, or --check one")
    .option("--traits <traits>", "controller | controller,worker[,lowlatency] | worker[,lowlatency] | storage")
    .option("--profile <file>", "hardware and release profile (YAML or JSON): diskGiB, bootMode, cpus, ...")
    .option("--out <file>", "kickstart to write ('-' for stdout)")
    .option("--check <file>", "validate a kickstart instead of writing one")
    .option("--json", "with --check: print the result as JSON")
    .action(async (opts: { traits?: string; profile?: string; out?: string; check?: string; json?: boolean }) => {
      if (opts.check) {
        let text: string;
        try {
          text = await readFile(opts.check, "utf8");
        } catch (err) {
          throw new CliError(`${opts.check}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        const result = await checkKickstart(text);
        if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else if (result.ok) process.stdout.write(`${opts.check}: ok (traits ${result.traits})\n`);
        if (!result.ok) throw new CliError(`${opts.check}: ${result.problems.length} problem(s):\n  ${result.problems.join("\n  ")}`, 1);
        return;
      }
      if (!opts.traits || !opts.out) throw new CliError("give --traits and --out (or --check FILE)");
      let text: string;
      try {
        text = renderKickstart(parseTraits(opts.traits), await loadProfile(opts.profile));
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      if (opts.out === "-") process.stdout.write(text);
      else await writeFile(opts.out, text, { mode: 0o644 });
    });
}
