import { CliError } from "@metal/core/cli/errors";
import type { Command } from "commander";
import { FeedError, syncFeed } from "../feed/layout.js";
import { renderKickstart } from "../kickstart/render.js";

/** `metal bsp feed --from DIR --out DIR --sw-version V [--json]` */
export function feedCommand(bsp: Command): void {
  bsp
    .command("feed")
    .description("lay out the install feed (kernels std/rt, initrd, EFI files, kickstarts, install uuid), copying only what changed")
    .requiredOption("--from <dir>", "staging directory: boot images (vmlinuz-*-amd64, initramfs-*), EFI files, kickstart/")
    .requiredOption("--out <dir>", "root to write pxeboot/ and feed/ under")
    .option("--sw-version <ver>", "release, for rel-<ver>/", "24.09")
    .option("--json", "print what was copied as JSON")
    .action((opts: { from: string; out: string; swVersion: string; json?: boolean }) => {
      if (!/^\d{1,4}\.\d{1,4}(\.\d{1,4})?$/.test(opts.swVersion)) throw new CliError(`--sw-version must look like 24.09 (got '${opts.swVersion}')`);
      let result: ReturnType<typeof syncFeed>;
      try {
        // A staging directory without its own kickstart gets the release's unified one.
        result = syncFeed(opts.from, opts.out, opts.swVersion, { kickstart: renderKickstart({ swVersion: opts.swVersion }) });
      } catch (err) {
        if (err instanceof FeedError) throw new CliError(err.message);
        throw err;
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        process.stdout.write(
          `copied ${result.copied.length}, linked ${result.linked.length}, unchanged ${result.unchanged.length}; install uuid ${result.installUuid}${result.installUuidCreated ? " (new)" : ""}\n`,
        );
      }
    });
}
