import { createHash, randomUUID } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, relative } from "node:path";

/**
 * The feed a controller serves to the nodes it installs (reference B.10 pxeboot_feed.sh, B.7 restage):
 * boot images from the ostree deployment mapped to fixed names, the EFI loader files, the kickstarts and
 * the install uuid. Everything lands twice, as pxeboot_feed.sh does: under the TFTP root
 * (`pxeboot/rel-<ver>/`, `pxeboot/EFI/BOOT/`) and under the HTTP feed (`feed/rel-<ver>/pxeboot/`).
 * A file is copied only when its content differs.
 */
export const EFI_FILES = ["bootx64.efi", "grubx64.efi", "mmx64.efi", "LockDown.efi", "LockDown.efi.sig", "grub.cfg.sig"] as const;

/**
 * The shim's GRUB (EFI/BOOT/bootx64.efi → grubx64.efi) reads grub.cfg beside itself; the original links it
 * to the pxeboot menu (reference B.7 step 11): `EFI/BOOT/grub.cfg → ../../pxelinux.cfg/grub.cfg`.
 */
export const EFI_GRUB_CFG_LINK = { path: "pxeboot/EFI/BOOT/grub.cfg", target: "../../pxelinux.cfg/grub.cfg" } as const;

export class FeedError extends Error {
  override readonly name = "FeedError";
}

/** initramfs → initrd, vmlinuz*rt-amd64 → bzImage-rt, vmlinuz*amd64 → bzImage-std, vmlinuz → bzImage; .sig follows. */
export function bootImageName(file: string): string | undefined {
  const sig = file.endsWith(".sig");
  const name = sig ? file.slice(0, -4) : file;
  let mapped: string | undefined;
  if (name.startsWith("initramfs")) mapped = "initrd";
  else if (name.startsWith("vmlinuz") && name.endsWith("rt-amd64")) mapped = "bzImage-rt";
  else if (name.startsWith("vmlinuz") && name.endsWith("amd64")) mapped = "bzImage-std";
  else if (name === "vmlinuz") mapped = "bzImage";
  return mapped && (sig ? `${mapped}.sig` : mapped);
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile() || e.isSymbolicLink()) out.push(p);
  }
  return out.sort();
}

function digest(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Copy only when the destination is absent or differs (size first, then content), via a temp file and rename. */
function syncFile(src: string, dst: string): boolean {
  if (existsSync(dst)) {
    const [a, b] = [statSync(src), statSync(dst)];
    if (a.size === b.size && digest(src) === digest(dst)) return false;
  }
  mkdirSync(dirname(dst), { recursive: true });
  const tmp = `${dst}.tmp-${process.pid}`;
  copyFileSync(src, tmp);
  renameSync(tmp, dst);
  return true;
}

export interface FeedPlan {
  /** destination (relative to out) → source (absolute). */
  readonly files: ReadonlyMap<string, string>;
}

/**
 * What goes where. The input is a staging directory: the boot images anywhere under it (as in
 * /boot/ostree/<deployment>/), the EFI files by name, and a `kickstart/` directory.
 */
export function planFeed(from: string, swVersion: string): FeedPlan {
  if (!existsSync(from) || !statSync(from).isDirectory()) throw new FeedError(`${from} is not a directory`);
  const rel = `rel-${swVersion}`;
  const files = new Map<string, string>();
  const claim = (dst: string, src: string) => {
    const prev = files.get(dst);
    if (prev && prev !== src) throw new FeedError(`both ${relative(from, prev)} and ${relative(from, src)} map to ${dst}; keep one deployment in ${from}`);
    files.set(dst, src);
  };
  for (const src of walk(from)) {
    const r = relative(from, src);
    const name = basename(src);
    if (r.startsWith(`kickstart/`)) {
      claim(`feed/${rel}/${r}`, src);
      continue;
    }
    if ((EFI_FILES as readonly string[]).includes(name)) {
      claim(`pxeboot/EFI/BOOT/${name}`, src);
      continue;
    }
    const image = bootImageName(name);
    if (image) {
      claim(`pxeboot/${rel}/${image}`, src);
      claim(`feed/${rel}/pxeboot/${image}`, src);
    }
  }
  for (const must of ["bzImage-std", "initrd"]) {
    if (!files.has(`pxeboot/${rel}/${must}`)) throw new FeedError(`${from} has no ${must === "initrd" ? "initramfs*" : "vmlinuz*-amd64"} image`);
  }
  return { files };
}

export interface FeedResult {
  copied: string[];
  /** Links made (or corrected) in this run. */
  linked: string[];
  unchanged: string[];
  installUuid: string;
  installUuidCreated: boolean;
}

/** Make `path` a symlink to `target` unless it already is one; true when it changed. */
function syncLink(path: string, target: string): boolean {
  let current: string | undefined;
  try {
    current = lstatSync(path).isSymbolicLink() ? readlinkSync(path) : "(a file)";
  } catch {
    current = undefined;
  }
  if (current === target) return false;
  mkdirSync(dirname(path), { recursive: true });
  if (current !== undefined) unlinkSync(path);
  symlinkSync(target, path);
  return true;
}

export interface FeedOptions {
  /** The feed's unified kickstart, written when the staging directory brings no kickstart/kickstart.cfg. */
  kickstart?: string;
}

/** Lay out (or refresh) the feed; the install uuid is made once and then kept, like the first controller's. */
export function syncFeed(from: string, out: string, swVersion: string, options: FeedOptions = {}): FeedResult {
  const plan = planFeed(from, swVersion);
  const copied: string[] = [];
  const unchanged: string[] = [];
  for (const [dst, src] of [...plan.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    (syncFile(src, join(out, dst)) ? copied : unchanged).push(dst);
  }
  const kickstart = `feed/rel-${swVersion}/kickstart/kickstart.cfg`;
  if (options.kickstart !== undefined && !plan.files.has(kickstart)) {
    const file = join(out, kickstart);
    const same = existsSync(file) && readFileSync(file, "utf8") === options.kickstart;
    if (!same) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp-${process.pid}`, options.kickstart, { mode: 0o644 });
      renameSync(`${file}.tmp-${process.pid}`, file);
    }
    (same ? unchanged : copied).push(kickstart);
  }
  const linked = syncLink(join(out, EFI_GRUB_CFG_LINK.path), EFI_GRUB_CFG_LINK.target) ? [EFI_GRUB_CFG_LINK.path] : [];
  const uuidFile = join(out, `feed/rel-${swVersion}/install_uuid`);
  let installUuid = existsSync(uuidFile) ? readFileSync(uuidFile, "utf8").trim() : "";
  const installUuidCreated = !/^[0-9a-f-]{36}$/.test(installUuid);
  if (installUuidCreated) {
    installUuid = randomUUID();
    mkdirSync(dirname(uuidFile), { recursive: true });
    writeFileSync(uuidFile, `${installUuid}\n`, { mode: 0o644 });
  }
  return { copied, linked, unchanged, installUuid, installUuidCreated };
}
