import type { Command } from "commander";
import { hostActionCommand } from "./host-action.js";

/** `metal host-power-off HOST`. */
export function hostPowerOffCommand(program: Command): void {
  hostActionCommand(program, "host-power-off", "power-off", "power a locked host off through its BMC");
}
