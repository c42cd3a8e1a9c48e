import type { Command } from "commander";
import { ConfigError, loadConfigFile } from "../../config/load.js";
import { CliError } from "../errors.js";

/** `metal config check FILE`: validate a config file; print every problem, one per line. */
export function configCommand(program: Command): void {
  const config = program.command("config").description("work with metal config files");
  config
    .command("check")
    .description("validate a config file (YAML or JSON) against the schema")
    .argument("<file>", "config file")
    .option("--print", "print the effective config (defaults filled in) as JSON")
    .action(async (file: string, opts: { print?: boolean }) => {
      try {
        const cfg = await loadConfigFile(file);
        if (opts.print) process.stdout.write(`${JSON.stringify(cfg, null, 2)}\n`);
        else process.stdout.write(`${file}: ok\n`);
      } catch (err) {
        if (err instanceof ConfigError) {
          for (const p of err.problems.slice(1)) process.stderr.write(`${file}: ${p}\n`);
          throw new CliError(`${file}: ${err.problems[0]}`);
        }
        throw err;
      }
    });
}
