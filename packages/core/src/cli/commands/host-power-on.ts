import type { Command } from "commander";
import { hostActionCommand } from "./host-action.js";

/** `metal host-power-on HOST`. */
export function hostPowerOnCommand(program: Command): void {
  hostActionCommand(program, "host-power-on", "power-on", "power a locked host on through its BMC");
}
