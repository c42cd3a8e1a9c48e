import type { Command } from "commander";
import { hostActionCommand } from "./host-action.js";

/** `metal host-swact HOST`. */
export function hostSwactCommand(program: Command): void {
  hostActionCommand(program, "host-swact", "swact", "move the active controller's services to the standby controller");
}
