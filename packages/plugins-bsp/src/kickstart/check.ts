import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { parseTraits } from "../hosts/traits.js";
import { FUNCTIONS_FILE } from "./install-functions.js";
import { type InstallPreview, previewInstall } from "./preview.js";
import { type Profile, parseProfile } from "./profile.js";
import { KICKSTART_MAGIC, SECTION_ORDER, type SectionName } from "./render.js";

/**
 * `metal bsp kickstart --check FILE`: is this (possibly hand-edited) unified kickstart still installable?
 * Structure (LAT hook blocks in order, each closed, headers as LAT reads them: `%post --interpreter=/bin/bash
 * --nochroot`), shell syntax of every block (`bash -n`), the traits line against the trait sets the body
 * accepts, and the contents: the kickstart's own install functions are run for every trait set on sample
 * hardware (a fake /proc and /sys, a sparse disk image) and must give what metal's rules give (preview.ts).
 */
export interface KickstartCheck {
  ok: boolean;
  traits?: string;
  sections: SectionName[];
  problems: string[];
}

interface Block {
  name: SectionName;
  line: number;
  body: string;
}

/** `%post --interpreter=/bin/bash --nochroot` → `%post --nochroot`; undefined for what LAT does not know. */
function sectionOf(header: string, n: number, problems: string[]): SectionName | undefined {
  const [name, ...options] = header.split(/\s+/);
  let nochroot = false;
  for (const o of options) {
    if (o === "--nochroot") nochroot = true;
    else if (/^--interpreter=\/\S+$/.test(o)) {
      if (!/\/(ba)?sh$/.test(o)) problems.push(`line ${n}: ${o}: the blocks are shell scripts (/bin/bash)`);
    } else problems.push(`line ${n}: unknown option '${o}' on ${name}`);
  }
  const section = `${name}${nochroot ? " --nochroot" : ""}`;
  if ((SECTION_ORDER as readonly string[]).includes(section)) return section as SectionName;
  problems.push(`line ${n}: unknown block '${header}' (LAT knows ${SECTION_ORDER.join(", ")})`);
  return undefined;
}

function splitBlocks(text: string, problems: string[]): Block[] {
  const blocks: Block[] = [];
  let open: { name: SectionName; line: number; lines: string[] } | undefined;
  let heredoc: string | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trimEnd();
    const n = i + 1;
    // A heredoc's body is data: a `%` line inside it is not a block header.
    if (heredoc !== undefined) {
      if (line === heredoc) heredoc = undefined;
      open?.lines.push(raw);
      return;
    }
    if (line.startsWith("%")) {
      if (line === "%end") {
        if (!open) problems.push(`line ${n}: %end without an open block`);
        else blocks.push({ name: open.name, line: open.line, body: open.lines.join("\n") });
        open = undefined;
        return;
      }
      const name = sectionOf(line, n, problems);
      if (!name) return;
      if (open) problems.push(`line ${n}: ${name} starts before ${open.name} (line ${open.line}) has its %end`);
      open = { name, line: n, lines: [] };
      return;
    }
    heredoc = /<<-?\s*'?"?(\w+)'?"?\s*$/.exec(line)?.[1];
    open?.lines.push(raw);
  });
  if (open) problems.push(`line ${open.line}: ${open.name} is never closed with %end`);
  let last = -1;
  for (const b of blocks) {
    const idx = SECTION_ORDER.indexOf(b.name);
    if (idx < last) problems.push(`line ${b.line}: ${b.name} comes after ${SECTION_ORDER[last]}; LAT runs them in the order ${SECTION_ORDER.join(", ")}`);
    last = Math.max(last, idx);
  }
  for (const s of SECTION_ORDER) if (!blocks.some((b) => b.name === s)) problems.push(`no ${s} block`);
  return blocks;
}

function header(text: string, key: string): string | undefined {
  return new RegExp(`^# ${key}: (.*)$`, "m").exec(text)?.[1];
}

/**
 * One `bash -n` for all blocks: each body becomes a function, so the shell parses every block once, and
 * an error line maps back to its block. (One process, not one per block: this runs on busy machines.)
 */
async function checkShell(blocks: Block[], problems: string[]): Promise<void> {
  const starts: number[] = [];
  let line = 1;
  const script = blocks
    .map((b, i) => {
      starts.push(line + 2);
      line += b.body.split("\n").length + 3;
      return `__metal_block_${i}() {\n:\n${b.body}\n}`;
    })
    .join("\n");
  const r = await execa("bash", ["-n"], { input: script, reject: false, timeout: 120_000 });
  if ((r as { code?: string }).code === "ENOENT") throw new Error("bash is not installed");
  if (r.timedOut) throw new Error("bash -n timed out");
  if (r.exitCode === 0) return;
  const at = Number(/line (\d+)/.exec(r.stderr)?.[1] ?? 0);
  let idx = 0;
  for (let i = 0; i < starts.length; i++) if (at >= starts[i]!) idx = i;
  const b = blocks[idx];
  const where = b ? `${b.name} (line ${b.line + Math.max(1, at - starts[idx]! + 1)})` : "kickstart";
  problems.push(`${where}: shell syntax: ${r.stderr.replace(/^bash: line \d+: /gm, "").trim()}`);
}

/** The sample nodes every trait set is tried on: a small and a large disk, Intel and AMD, UEFI and BIOS. */
export const SAMPLE_HARDWARE: ReadonlyArray<Partial<Profile>> = [
  { diskGiB: 100, cpus: 4, bootMode: "bios", cpuVendor: "intel", node0MemoryMiB: 7000 },
  { diskGiB: 500, cpus: 16, bootMode: "uefi", cpuVendor: "amd", node0MemoryMiB: 65536 },
];
const SAMPLE_BOOT_ARGS = ["nopti", "insthwsettle=7"];

/** A fake /proc and /sys for one sample node, and a sparse disk image of its size. */
export function fakeNode(dir: string, hw: Profile, cmdline: string): { proc: string; sys: string; disk: string } {
  const proc = join(dir, "proc");
  const sys = join(dir, "sys");
  mkdirSync(join(proc, "sys/kernel/random"), { recursive: true });
  mkdirSync(join(sys, "devices/system/node/node0"), { recursive: true });
  mkdirSync(join(sys, "class/dmi/id"), { recursive: true });
  if (hw.bootMode === "uefi") mkdirSync(join(sys, "firmware/efi"), { recursive: true });
  writeFileSync(join(proc, "cmdline"), `${cmdline}\n`);
  const vendor = hw.cpuVendor === "amd" ? "AuthenticAMD" : "GenuineIntel";
  const cpu = (i: number) => `processor\t: ${i}\nvendor_id\t: ${vendor}\nmodel\t\t: ${hw.cpuModel ?? 85}\n\n`;
  writeFileSync(join(proc, "cpuinfo"), Array.from({ length: hw.cpus }, (_, i) => cpu(i)).join(""));
  writeFileSync(join(proc, "meminfo"), `MemTotal:       ${hw.node0MemoryMiB * 1024 * 4} kB\n`);
  writeFileSync(join(sys, "devices/system/node/node0/meminfo"), `Node 0 MemTotal:       ${hw.node0MemoryMiB * 1024} kB\n`);
  writeFileSync(join(sys, "class/dmi/id/product_name"), `${hw.productName ?? "metal test node"}\n`);
  writeFileSync(join(proc, "sys/kernel/random/uuid"), "0f0e0d0c-0b0a-4908-8706-050403020100\n");
  const disk = join(dir, "disk.img");
  writeFileSync(disk, "");
  truncateSync(disk, hw.diskGiB * 1024 ** 3);
  return { proc, sys, disk };
}

/** What the kickstart's own functions decide on one fake node, as the preview's shape. */
const PROBE = `ks_role; ks_disk_plan "$KS_DISK"; ks_kernel_params
printf 'traits=%s\\nnodetype=%s\\nsystemType=%s\\npreset=%s\\nvolumes=%s\\nbackup=%s\\npartitions=%s\\nkernel=%s\\n' \\
  "$KS_TRAITS" "$KS_NODETYPE" "$KS_SYSTEM_TYPE" "$KS_PRESET" "$KS_LV_ROOT $KS_LV_VAR $KS_LV_LOG $KS_LV_SCRATCH" "$KS_BACKUP_MIB" "$KS_PARTITIONS" "$KS_KERNEL_PARAMS"
if [ "$KS_AIO" = true ]; then echo "reserved=$(ks_aio_reserved_mib) 0-$(($(ks_cpu_count) - 1))"; fi`;

function expected(p: InstallPreview): Record<string, string> {
  const e: Record<string, string> = {
    traits: p.traits,
    nodetype: p.nodetype,
    systemType: p.systemType,
    preset: p.preset,
    volumes: `${p.volumes.root} ${p.volumes.var} ${p.volumes.log} ${p.volumes.scratch}`,
    backup: p.backupMiB === undefined ? "" : String(p.backupMiB),
    partitions: p.partitions.map((x) => `${x.name}:${x.sizeMiB ?? 0}:${x.type}`).join(" "),
    kernel: p.kernelParams.join(" "),
  };
  if (p.workerReserved) e.reserved = `${p.workerReserved.node0ReservedMiB} ${p.workerReserved.workerCpuList}`;
  return e;
}

/**
 * Run the install functions for every trait set on every sample node (one bash process, a subshell per
 * case: this runs on busy machines) and report each value that differs from metal's rules.
 */
async function checkContents(functions: string, traitSets: string[], options: { platformCpus?: number }, problems: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "metal-ks-check-"));
  try {
    const lib = join(dir, FUNCTIONS_FILE);
    writeFileSync(lib, functions);
    const cases: Array<{ where: string; want: Record<string, string>; out: string }> = [];
    const script: string[] = [];
    for (const traits of traitSets) {
      for (const sample of SAMPLE_HARDWARE) {
        const hw = parseProfile({ ...sample, ...(options.platformCpus !== undefined ? { platformCpus: options.platformCpus } : {}) });
        const where = `traits ${traits} on a ${hw.diskGiB} GiB ${hw.bootMode} node with ${hw.cpus} ${hw.cpuVendor} CPUs`;
        let want: Record<string, string>;
        try {
          want = expected(previewInstall(parseTraits(traits), hw, SAMPLE_BOOT_ARGS));
        } catch (err) {
          problems.push(`traits ${traits}: ${(err as Error).message}`);
          continue;
        }
        const caseDir = join(dir, String(cases.length));
        const node = fakeNode(caseDir, hw, `traits=${traits} ${SAMPLE_BOOT_ARGS.join(" ")} insturl=http://pxecontroller:8080/feed`);
        const out = join(caseDir, "out");
        const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
        script.push(
          `( KS_PROC=${q(node.proc)} KS_SYS=${q(node.sys)} KS_ROOT=${q(join(caseDir, "root"))} KS_DISK=${q(node.disk)}; . ${q(lib)}; ${PROBE} ) > ${q(out)} 2>&1; echo "rc=$?" >> ${q(out)}`,
        );
        cases.push({ where, want, out });
      }
    }
    const r = await execa("bash", ["-c", script.join("\n")], {
      reject: false,
      timeout: 120_000,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      extendEnv: false,
    });
    if (r.timedOut) throw new Error("running the install functions timed out");
    for (const c of cases) {
      let text = "";
      try {
        text = readFileSync(c.out, "utf8");
      } catch {
        problems.push(`${c.where}: the install functions did not run`);
        continue;
      }
      const lines = text.trimEnd().split("\n");
      if (lines.at(-1) !== "rc=0") {
        problems.push(`${c.where}: the install functions fail: ${lines.at(-2) ?? lines.at(-1)}`);
        continue;
      }
      const got = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
      for (const [key, value] of Object.entries(c.want)) {
        if (got[key] !== value) problems.push(`${c.where}: ${key} is '${got[key] ?? "(none)"}'; metal's rules give '${value}'`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The calls the later blocks must make for the functions' decisions to reach the node. */
const REQUIRED_CALLS: ReadonlyArray<[SectionName, RegExp, string]> = [
  ["%part", /ks_disk_plan "\$INSTDEV"/, "measure the install disk (ks_disk_plan)"],
  ["%part", /--change-name="\$n:\$name"/, "create the planned partitions"],
  ["%mkfs", /lvcreate -y -n root-lv -L "\$\{KS_LV_ROOT\}M"/, "create root-lv with the planned size"],
  ["%mkfs", /lvcreate -y -n var-lv -L "\$\{KS_LV_VAR\}M"/, "create var-lv with the planned size"],
  ["%mkfs", /lvcreate -y -n log-lv -L "\$\{KS_LV_LOG\}M"/, "create log-lv with the planned size"],
  ["%mkfs", /lvcreate -y -n scratch-lv -L "\$\{KS_LV_SCRATCH\}M"/, "create scratch-lv with the planned size"],
  ["%post", /^nodetype=\$KS_NODETYPE$/m, "write nodetype to platform.conf"],
  ["%post", /^subfunction=\$KS_TRAITS$/m, "write subfunction to platform.conf"],
  ["%post", /^system_type=\$KS_SYSTEM_TYPE$/m, "write system_type to platform.conf"],
  ["%post", /kernel_params="\$KS_KERNEL_PARAMS"/, "write kernel_params to boot.env"],
  ["%post --nochroot", /management_interface=/, "write management_interface to platform.conf"],
];

export async function checkKickstart(text: string): Promise<KickstartCheck> {
  const problems: string[] = [];
  if (!text.startsWith(KICKSTART_MAGIC)) problems.push(`not a metal kickstart: the first line is not '${KICKSTART_MAGIC}'`);
  const blocks = splitBlocks(text, problems);
  await checkShell(blocks, problems);
  const bodyOf = (name: SectionName) =>
    blocks
      .filter((b) => b.name === name)
      .map((b) => b.body)
      .join("\n");
  for (const [section, pattern, what] of REQUIRED_CALLS) {
    if (!pattern.test(bodyOf(section))) problems.push(`${section} does not ${what}`);
  }
  const early = bodyOf("%ks-early");
  const functions = /<<'METAL_FUNCTIONS'\n([\s\S]*?)\nMETAL_FUNCTIONS\n/.exec(early)?.[1];
  const traits = header(text, "metal-traits");
  const optionsText = header(text, "metal-options");
  if (!functions) problems.push("%ks-early does not write the install functions (a METAL_FUNCTIONS heredoc)");
  if (!traits || !optionsText) problems.push("the header lacks '# metal-traits:' or '# metal-options:'; cannot check the contents");
  if (functions && traits && optionsText) {
    const traitSets = traits.trim().split(/\s+/);
    const accepted = /^KS_VALID_TRAITS="([^"]*)"$/m.exec(functions)?.[1]?.trim().split(/\s+/) ?? [];
    if (traitSets.join(" ") !== accepted.join(" "))
      problems.push(`the traits line says '${traitSets.join(" ")}' but the install functions accept '${accepted.join(" ")}'`);
    try {
      const options = JSON.parse(optionsText) as { platformCpus?: number };
      await checkContents(functions, traitSets, options, problems);
    } catch (err) {
      problems.push(`header: ${(err as Error).message}`);
    }
  }
  return { ok: problems.length === 0, ...(traits ? { traits: traits.trim() } : {}), sections: blocks.map((b) => b.name), problems };
}
