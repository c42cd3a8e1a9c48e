import { readFile, writeFile } from "node:fs/promises";
import { CliError } from "@metal/core/cli/errors";
import type { Command } from "commander";
import { parseTraits } from "../hosts/traits.js";
import { checkKickstart } from "../kickstart/check.js";
import { type InstallPreview, previewInstall } from "../kickstart/preview.js";
import { loadProfile, parseProfile } from "../kickstart/profile.js";
import { renderKickstart } from "../kickstart/render.js";

interface KickstartOptions {
  traits?: string;
  profile?: string;
  out?: string;
  check?: string;
  json?: boolean;
  diskGib?: string;
  cpus?: string;
  cpuVendor?: string;
  bootMode?: string;
  node0MemoryMib?: string;
  bootArgs?: string;
}

/** Hardware flags override the profile file; numbers are checked by the profile schema. */
async function previewProfile(opts: KickstartOptions) {
  const base = await loadProfile(opts.profile);
  const num = (v: string | undefined, flag: string) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new CliError(`${flag} must be a whole number (got '${v}')`);
    return Number(v);
  };
  const over = {
    diskGiB: num(opts.diskGib, "--disk-gib"),
    cpus: num(opts.cpus, "--cpus"),
    node0MemoryMiB: num(opts.node0MemoryMib, "--node0-memory-mib"),
    cpuVendor: opts.cpuVendor,
    bootMode: opts.bootMode,
  };
  return parseProfile({ ...base, ...Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)) }, "hardware");
}

function printPreview(p: InstallPreview): void {
  const lines = [
    `traits ${p.traits}: ${p.systemType} ${p.nodetype}, systemd preset ${p.preset}`,
    `partitions: ${p.partitions.map((x) => `${x.name}${x.sizeMiB === undefined ? " (rest)" : ` ${x.sizeMiB} MiB`}`).join(", ")}`,
    `cgts-vg: root-lv ${p.volumes.root}, var-lv ${p.volumes.var}, log-lv ${p.volumes.log}, scratch-lv ${p.volumes.scratch} MiB`,
    `platform.conf: ${Object.entries(p.platformConf)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")} (+ management_interface, INSTALL_UUID at install)`,
    `kernel_params: ${p.kernelParams.join(" ")}`,
  ];
  if (p.workerReserved) lines.push(`worker_reserved.conf: node0 ${p.workerReserved.node0ReservedMiB} MB, WORKER_CPU_LIST=${p.workerReserved.workerCpuList}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * `metal bsp kickstart --out FILE` writes the feed's unified kickstart; `--traits T [--disk-gib N --cpus N
 * ...]` previews what a node of that role and hardware gets from it; `--check FILE` validates one.
 */
export function kickstartCommand(bsp: Command): void {
  bsp
    .command("kickstart")
    .description("write the feed's unified LAT kickstart (--out), preview a role on given hardware (--traits), or --check one")
    .option("--out <file>", "write the unified kickstart ('-' for stdout)")
    .option("--profile <file>", "release and hardware profile (YAML or JSON): swVersion, platformCpus, diskGiB, cpus, ...")
    .option("--traits <traits>", "preview: controller | controller,worker[,lowlatency] | worker[,lowlatency] | storage")
    .option("--disk-gib <n>", "preview: install disk size")
    .option("--cpus <n>", "preview: logical CPUs")
    .option("--cpu-vendor <v>", "preview: intel | amd")
    .option("--boot-mode <m>", "preview: uefi | bios")
    .option("--node0-memory-mib <n>", "preview: NUMA node 0 memory (All-in-one reservation)")
    .option("--boot-args <words>", "preview: installer boot-line words the node keeps (nopti, insthwsettle=N, persistent_size=MiB)")
    .option("--check <file>", "validate a kickstart instead of writing one")
    .option("--json", "with --check or --traits: print the result as JSON")
    .action(async (opts: KickstartOptions) => {
      if (opts.check) {
        let text: string;
        try {
          text = await readFile(opts.check, "utf8");
        } catch (err) {
          throw new CliError(`${opts.check}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        const result = await checkKickstart(text);
        if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else if (result.ok) process.stdout.write(`${opts.check}: ok (installs ${result.traits})\n`);
        if (!result.ok) throw new CliError(`${opts.check}: ${result.problems.length} problem(s):\n  ${result.problems.join("\n  ")}`, 1);
        return;
      }
      if (opts.traits) {
        let preview: InstallPreview;
        try {
          const bootArgs = (opts.bootArgs ?? "").split(/\s+/).filter((w) => w !== "");
          preview = previewInstall(parseTraits(opts.traits), await previewProfile(opts), bootArgs);
        } catch (err) {
          if ((err as { exitCode?: number }).exitCode !== undefined) throw err;
          throw new CliError((err as Error).message);
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(preview, null, 2)}\n`);
        else printPreview(preview);
        return;
      }
      if (!opts.out) throw new CliError("give --out FILE (the unified kickstart), --traits T (a preview) or --check FILE");
      let text: string;
      try {
        const profile = await loadProfile(opts.profile);
        text = renderKickstart({ swVersion: profile.swVersion, ...(profile.platformCpus !== undefined ? { platformCpus: profile.platformCpus } : {}) });
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      if (opts.out === "-") process.stdout.write(text);
      else await writeFile(opts.out, text, { mode: 0o644 });
    });
}
