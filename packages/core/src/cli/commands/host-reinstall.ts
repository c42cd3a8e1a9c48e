import type { Command } from "commander";
import { hostActionCommand } from "./host-action.js";

/** `metal host-reinstall HOST`. */
export function hostReinstallCommand(program: Command): void {
  hostActionCommand(program, "host-reinstall", "reinstall", "reinstall a locked host (network boot through the BMC, or wipe its disk)");
}
