import type { Command } from "commander";
import { clientCommand } from "./client.js";
import { configCommand } from "./config.js";
import { hbsCommand } from "./hbs.js";
import { labCommand } from "./lab.js";
import { pluginsCommand } from "./plugins.js";

/** Every core command. Add one line per command file. */
export const coreCommands: ReadonlyArray<(program: Command) => void> = [pluginsCommand, configCommand, labCommand, clientCommand, hbsCommand];
