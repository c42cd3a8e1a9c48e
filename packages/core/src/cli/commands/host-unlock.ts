import type { Command } from "commander";
import { hostActionCommand } from "./host-action.js";

/** `metal host-unlock HOST`. */
export function hostUnlockCommand(program: Command): void {
  hostActionCommand(program, "host-unlock", "unlock", "unlock a host (enable it: reboot, tests, heartbeat soak)");
}
