import type { Command } from "commander";
import { hostActionCommand } from "./host-action.js";

/** `metal host-lock HOST`. */
export function hostLockCommand(program: Command): void {
  hostActionCommand(program, "host-lock", "lock", "lock a host (take it out of service); --force resets it first", (cmd) =>
    cmd.option("--force", "force-lock: reset the host instead of stopping its services"),
  );
}
