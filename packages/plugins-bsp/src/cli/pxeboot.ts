import { CliError } from "@metal/core/cli/errors";
import type { Command } from "commander";
import { normalizeMac } from "../hosts/mac.js";
import { generatePxeboot, pruneStaleHosts, removeHostFiles } from "../pxeboot/generate.js";
import { hostListFromCli } from "./host-list-option.js";
import { progressBar, progressMode } from "./progress.js";

/** `metal bsp pxeboot --hosts F --out DIR [--json] [--remove HOST...]` */
export function pxebootCommand(bsp: Command): void {
  bsp
    .command("pxeboot")
    .description("write the pxeboot tree: per-MAC BIOS and UEFI files, templates per personality, fallback menus")
    .requiredOption("--hosts <file>", "host list (YAML or JSON)")
    .requiredOption("--out <dir>", "TFTP root to write (e.g. /var/pxeboot)")
    .option("--remove <host...>", "instead of generating, delete these hosts' files (hostname or MAC)")
    .option("--prune", "also delete per-MAC files of hosts no longer in the list")
    .option("--progress <mode>", "progress bar: auto (terminal, large systems), always, never", "auto")
    .option("--json", "print what was written as JSON")
    .action(async (opts: { hosts: string; out: string; remove?: string[]; prune?: boolean; progress: string; json?: boolean }) => {
      const list = await hostListFromCli(opts.hosts);
      if (opts.remove) {
        const removed = opts.remove.map((key) => {
          const mac = normalizeMac(key) ?? list.hosts.find((h) => h.hostname === key)?.mac;
          if (!mac) throw new CliError(`--remove: '${key}' is neither a MAC nor a hostname in ${opts.hosts}`);
          return { host: key, mac, files: removeHostFiles(opts.out, mac) };
        });
        process.stdout.write(opts.json ? `${JSON.stringify({ removed }, null, 2)}\n` : removed.map((r) => `removed ${r.host} (${r.mac})\n`).join(""));
        return;
      }
      const bar = progressBar("pxeboot", list.hosts.length, progressMode(opts.progress));
      const result = await generatePxeboot(list, opts.out, { onProgress: (d, t) => bar.update(d, t) }).finally(() => bar.stop());
      const pruned = opts.prune ? pruneStaleHosts(opts.out, list) : [];
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...result, pruned }, null, 2)}\n`);
      } else {
        process.stdout.write(
          `wrote ${result.hosts.length} host(s), ${result.templates.length} template(s) and the ${list.system.mgmtAddressing} fallback menus under ${opts.out}${opts.prune ? `; pruned ${pruned.length} stale file(s)` : ""}\n`,
        );
      }
    });
}
