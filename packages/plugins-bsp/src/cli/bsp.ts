import type { Command } from "commander";
import { dnsmasqCommand } from "./dnsmasq.js";
import { feedCommand } from "./feed.js";
import { kickstartCommand } from "./kickstart.js";
import { pxebootCommand } from "./pxeboot.js";
import { rvmcCommand } from "./rvmc.js";

/** `metal bsp ...`: one sub-command per file; add one line per command. */
const SUBCOMMANDS: ReadonlyArray<(bsp: Command) => void> = [pxebootCommand, kickstartCommand, feedCommand, dnsmasqCommand, rvmcCommand];

export function bspCommand(program: Command): void {
  const bsp = program.command("bsp").description("board support: pxeboot and kickstart generation, feed layout, dnsmasq, virtual-media install (RVMC)");
  for (const add of SUBCOMMANDS) add(bsp);
}
