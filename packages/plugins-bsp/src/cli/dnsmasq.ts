import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { dnsmasqConfig } from "../dnsmasq/config.js";
import { hostListFromCli } from "./host-list-option.js";

/** `metal bsp dnsmasq --hosts F --out FILE [--tftp-root DIR]` */
export function dnsmasqCommand(bsp: Command): void {
  bsp
    .command("dnsmasq")
    .description("write a dnsmasq config: TFTP root, DHCP host entry per MAC, BIOS or UEFI boot file by client architecture")
    .requiredOption("--hosts <file>", "host list (YAML or JSON)")
    .requiredOption("--out <file>", "config file to write ('-' for stdout)")
    .option("--tftp-root <dir>", "serve this directory instead of the host list's system.tftpRoot")
    .action(async (opts: { hosts: string; out: string; tftpRoot?: string }) => {
      const list = await hostListFromCli(opts.hosts);
      const text = dnsmasqConfig(list, opts.tftpRoot ? { tftpRoot: opts.tftpRoot } : {});
      if (opts.out === "-") process.stdout.write(text);
      else await writeFile(opts.out, text, { mode: 0o644 });
    });
}
