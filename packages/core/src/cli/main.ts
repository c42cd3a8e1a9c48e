#!/usr/bin/env node
import "reflect-metadata";
import { Command, CommanderError } from "commander";
import { container as rootContainer } from "tsyringe";
import { defaultConfig } from "../config/index.js";
import { asServiceContainer, loadConfiguredPlugins } from "../di/container.js";
import { coreCommands } from "./commands/index.js";
import { CliError } from "./errors.js";

export function buildProgram(): Command {
  const program = new Command("metal")
    .description("metal: bare-metal maintenance for edge clusters (host state machines, heartbeat, BMC and BSP plugins)")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const add of coreCommands) add(program);
  return program;
}

/** Plugins add their own sub-commands (e.g. `metal bsp ...`); a broken plugin never breaks the core CLI. */
async function addPluginCommands(program: Command): Promise<void> {
  const { plugins } = await loadConfiguredPlugins(defaultConfig());
  const container = asServiceContainer(rootContainer.createChildContainer());
  for (const p of plugins) {
    try {
      p.module.cli?.(program, { container });
    } catch (err) {
      process.stderr.write(`metal: plugin ${p.name}: its CLI failed to load: ${(err as Error).message}\n`);
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // A core command (a daemon such as `metal client`, or `metal wire`) needs no plugin CLI: skip importing
  // every plugin, which is most of the start-up time. Help and plugin commands still load them.
  const first = argv[2];
  if (!program.commands.some((c) => c.name() === first)) await addPluginCommands(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its one-line reason (or the help/version text).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`metal: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`metal: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`metal: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
