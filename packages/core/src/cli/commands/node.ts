import { existsSync } from "node:fs";
import type { Command } from "commander";
import { provisionedFlagFiles, writeProvisionedFlags } from "../../client/provisioned-flags.js";
import { nodePaths } from "../../config/paths.js";
import { loadRequiredCliConfig } from "../config-option.js";
import { CliError } from "../errors.js";
import { type OutputOptions, printList, withOutputOptions } from "../output.js";

/**
 * `metal node init -c F`: write the flag files a provisioned node's config tooling would (initial config
 * complete, config pass, `.goenabled`, the worker ones for a worker subfunction) under the config's `root`, for
 * a node that has no such tooling. Existing files are kept; a `.config_fail` refuses. Lists each file and
 * whether it was written or already there.
 */
export function nodeCommand(program: Command): void {
  const node = program.command("node").description("this node's provisioning state");
  withOutputOptions(
    node
      .command("init")
      .description("write the flag files a provisioned node has (as its config tooling would), so mtcClient can enable it")
      .option("-c, --config <file>", "metal config file (node.subfunctions, root); default $METAL_CONFIG"),
  ).action(async (opts: OutputOptions & { config?: string }) => {
    const config = await loadRequiredCliConfig(opts.config);
    const paths = nodePaths(config.root);
    const before = new Set(provisionedFlagFiles(paths, config.node.subfunctions).filter((f) => existsSync(f)));
    let written: string[];
    try {
      written = await writeProvisionedFlags(paths, config.node.subfunctions);
    } catch (err) {
      throw new CliError(`node init: ${(err as Error).message}`, 1);
    }
    const rows = provisionedFlagFiles(paths, config.node.subfunctions).map((file) => ({
      file,
      state: written.includes(file) ? "written" : before.has(file) ? "present" : "missing",
    }));
    printList(opts, rows, ["file", "state"]);
  });
}
