import type { Command } from "commander";
import { hostActionCommand } from "./host-action.js";

/** `metal host-delete HOST`. */
export function hostDeleteCommand(program: Command): void {
  hostActionCommand(program, "host-delete", "delete", "remove a locked host from maintenance (its disk is wiped)");
}
