#!/usr/bin/env node
import "reflect-metadata";
import { Command } from "commander";
import { container as rootContainer } from "tsyringe";
import { defaultConfig } from "../config/index.js";
import { type CoreCommandModule, coreCommandModules } from "./commands/index.js";
import { isCliError } from "./errors.js";
import { argvWantsJson, formatError } from "./output.js";

/**
 * The program with the core commands `first` needs: only the module that registers it when `first` names a
 * core command, every module otherwise (help, plugin commands, mistakes). Throws what a module import throws.
 */
export async function buildProgram(jsonErrors = false, first?: string): Promise<Command> {
  const program = new Command("metal")
    .description("metal: bare-metal maintenance for edge clusters (host state machines, heartbeat, BMC and BSP plugins)")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  // With JSON output asked for, commander's own error lines (unknown option, missing argument) are printed
  // by main() as JSON instead; help and version text still go to stdout. Inherited by every sub-command.
  if (jsonErrors) program.configureOutput({ writeErr: () => {}, outputError: () => {} });
  const wanted: readonly CoreCommandModule[] = coreCommandModules.filter((m) => first !== undefined && m.names.includes(first));
  for (const m of wanted.length > 0 ? wanted : coreCommandModules) (await m.load())(program);
  return program;
}

/** The config file a command line names (`-c F`, `--config F`, `--config=F`), else $METAL_CONFIG. */
function configFileFromArgv(args: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") break;
    if ((a === "-c" || a === "--config") && i + 1 < args.length) return args[i + 1];
    if (a.startsWith("--config=")) return a.slice("--config=".length);
  }
  return env.METAL_CONFIG || undefined;
}

/**
 * Plugins add their own sub-commands (e.g. `metal bsp ...`), including those a config's `plugins.load` names
 * (the config from `-c/--config` or $METAL_CONFIG). A broken plugin or config never breaks the core CLI: the
 * command itself reports a bad config.
 */
async function addPluginCommands(program: Command, args: readonly string[]): Promise<void> {
  const { asServiceContainer, loadConfiguredPlugins } = await import("../di/container.js");
  const file = configFileFromArgv(args);
  let config = defaultConfig();
  if (file) {
    const { loadConfigFile } = await import("../config/load.js");
    config = await loadConfigFile(file).catch(() => config);
  }
  const { plugins } = await loadConfiguredPlugins(config);
  const container = asServiceContainer(rootContainer.createChildContainer());
  for (const p of plugins) {
    try {
      p.module.cli?.(program, { container });
    } catch (err) {
      process.stderr.write(`metal: plugin ${p.name}: its CLI failed to load: ${(err as Error).message}\n`);
    }
  }
}

/** commander's own parse errors carry a `commander.*` code and the exit code to use. */
function isCommanderError(err: unknown): err is { code: string; exitCode: number; message: string } {
  const e = err as { code?: unknown; exitCode?: unknown } | null;
  return typeof e === "object" && e !== null && typeof e.code === "string" && e.code.startsWith("commander.") && typeof e.exitCode === "number";
}

async function main(argv: string[]): Promise<number> {
  // A guess from the command line (for errors of the parse itself), settled by the options the command parsed:
  // `--json` is a boolean on read commands but a value on `metal wire encode --json '{...}'`.
  let json = argvWantsJson(argv.slice(2));
  const first = argv[2];
  const program = await buildProgram(json, first);
  program.hook("preAction", (_root, command) => {
    const o = command.opts() as { json?: unknown; format?: unknown };
    json = o.json === true || o.format === "json";
  });
  // A core command (a daemon such as `metal client`, or `metal wire`) needs no plugin CLI: skip importing
  // every plugin, which is most of the start-up time. Help and plugin commands still load them.
  if (!program.commands.some((c) => c.name() === first)) await addPluginCommands(program, argv.slice(2));
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    // By code, never instanceof: a plugin's sub-command may throw errors of its own copy of commander or core.
    if (isCommanderError(err)) {
      // commander already printed its one-line reason (or the help/version text), unless JSON was asked for.
      if (json && err.exitCode !== 0) process.stderr.write(formatError(err.message.replace(/^error: /, ""), true));
      return err.exitCode === 0 ? 0 : 2;
    }
    if (isCliError(err)) {
      process.stderr.write(formatError(err.message, json));
      return err.exitCode;
    }
    process.stderr.write(formatError((err as Error).message ?? String(err), json));
    return 1;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(formatError(String(err), argvWantsJson(process.argv.slice(2))));
    process.exitCode = 1;
  },
);
