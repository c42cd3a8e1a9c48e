import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { execa } from "execa";
import { fakeNode } from "../src/kickstart/check.js";
import type { SectionName } from "../src/kickstart/render.js";
import { tempDir } from "./helpers.js";

/**
 * A throwaway "installer" to run the unified kickstart's blocks for real: a fake /proc and /sys, a sparse
 * disk image as the install device (real sgdisk writes its GPT), real grub-editenv for boot.env, and the
 * installed root in a temp dir. PATH holds only an allow-list of harmless tools (symlinked) and recording
 * stubs for everything that would touch real disks or accounts (lvcreate, mkfs.ext4, wipefs, useradd, ...),
 * so a block can never reach the machine's own disks whatever it runs.
 */
const SAFE_TOOLS = [
  "bash",
  "sh",
  "cat",
  "sed",
  "awk",
  "tr",
  "grep",
  "sort",
  "paste",
  "cut",
  "head",
  "tail",
  "mkdir",
  "ln",
  "rm",
  "stat",
  "uname",
  "ip",
  "date",
  "wc",
  "tee",
  "env",
  "sgdisk",
  "grub-editenv",
  "curl",
  "dirname",
  "basename",
  "true",
  "false",
  "sleep",
];
/** Tools that act on disks, volumes or accounts: recorded (one line per call), never run. */
const RECORDED = [
  "udevadm",
  "partprobe",
  "wipefs",
  "blkid",
  "pvcreate",
  "vgcreate",
  "lvcreate",
  "mkfs.ext4",
  "vgs",
  "pvs",
  "vgremove",
  "pvremove",
  "useradd",
  "passwd",
  "userdel",
  "bc",
  "dd",
];
export const INSTALL_UUID = "a1b2c3d4-0000-4000-8000-0123456789ab";

function which(tool: string): string {
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter)) {
    const p = join(dir, tool);
    if (existsSync(p)) return p;
  }
  throw new Error(`${tool} is not installed (bash scripts/setup.sh peers installs gdisk, grub-common, iproute2, curl)`);
}

export interface Sandbox {
  dir: string;
  bin: string;
  root: string;
  lat: string;
  calls: string;
  node: { proc: string; sys: string; disk: string };
}

/** A sandbox for one node: hardware as the preview profile describes it, booted with `cmdline`. */
export function sandbox(hw: Parameters<typeof fakeNode>[1], cmdline: string): Sandbox {
  const dir = tempDir("metal-ks-run-");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const tool of SAFE_TOOLS) symlinkSync(which(tool), join(bin, tool));
  const calls = join(dir, "calls.log");
  writeFileSync(calls, "");
  for (const tool of RECORDED) {
    writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> "${calls}"\nexit 0\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  // lsblk: no disks to wipe; the install device's partitions for %mkfs's PV lookup.
  writeFileSync(
    join(bin, "lsblk"),
    `#!/bin/sh\necho "lsblk $*" >> "${calls}"\ncase "$*" in *-dnpo*) exit 0 ;; esac\necho "$INSTDEV"\nfor n in 1 2 3 4 5 6; do echo "$INSTDEV$n"; done\n`,
  );
  // wget: the feed's install_uuid, as a controller's feed would serve it.
  writeFileSync(join(bin, "wget"), `#!/bin/sh\necho "wget $*" >> "${calls}"\ncase "$*" in *install_uuid*) echo ${INSTALL_UUID} ;; *) echo false ;; esac\n`);
  for (const f of ["lsblk", "wget"]) chmodSync(join(bin, f), 0o755);
  const node = fakeNode(join(dir, "node"), hw, cmdline);
  const root = join(dir, "root");
  mkdirSync(join(root, "etc/platform"), { recursive: true });
  return { dir, bin, root, lat: join(dir, "lat"), calls, node };
}

/** The kickstart's blocks of one kind, in order. */
export function blocksOf(kickstart: string, section: SectionName): string[] {
  const out: string[] = [];
  const re = /^(%[a-z-]+)((?: --[a-z]+(?:=\S+)?)*)\n([\s\S]*?)\n%end$/gm;
  for (const m of kickstart.matchAll(re)) {
    const nochroot = (m[2] ?? "").includes("--nochroot");
    if (`${m[1]}${nochroot ? " --nochroot" : ""}` === section) out.push(m[3]!);
  }
  return out;
}

/** Run one block as LAT would (bash), with the sandbox's paths; `wrap` runs it inside e.g. `ip netns exec`. */
export async function runBlock(s: Sandbox, body: string, wrap: string[] = [], extraEnv: Record<string, string> = {}) {
  const env = {
    PATH: s.bin,
    KS_LAT: s.lat,
    KS_PROC: s.node.proc,
    KS_SYS: s.node.sys,
    KS_ROOT: s.root,
    IMAGE_ROOTFS: s.root,
    INSTDEV: s.node.disk,
    ...extraEnv,
  };
  const bash = join(s.bin, "bash");
  const [cmd, args] = wrap.length
    ? [wrap[0]!, [...wrap.slice(1), which("env"), "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), bash, "-c", body]]
    : [bash, ["-c", body]];
  return execa(cmd, args, { reject: false, timeout: 120_000, env, extendEnv: false, all: true });
}

export function calls(s: Sandbox, tool: string): string[] {
  return readFileSync(s.calls, "utf8")
    .split("\n")
    .filter((l) => l.startsWith(`${tool} `));
}
