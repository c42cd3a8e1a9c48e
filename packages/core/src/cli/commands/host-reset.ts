import type { Command } from "commander";
import { hostActionCommand } from "./host-action.js";

/** `metal host-reset HOST`. */
export function hostResetCommand(program: Command): void {
  hostActionCommand(program, "host-reset", "reset", "reset a locked host through its BMC");
}
