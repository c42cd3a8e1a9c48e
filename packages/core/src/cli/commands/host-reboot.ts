import type { Command } from "commander";
import { hostActionCommand } from "./host-action.js";

/** `metal host-reboot HOST`. */
export function hostRebootCommand(program: Command): void {
  hostActionCommand(program, "host-reboot", "reboot", "reboot a locked host");
}
