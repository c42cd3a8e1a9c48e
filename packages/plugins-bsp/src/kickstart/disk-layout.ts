import type { InstallRole } from "../hosts/traits.js";
import type { Profile } from "./profile.js";

/**
 * The install disk layout and the cgts-vg volume sizes per role and disk size (reference B.7 part/mkfs).
 * Sizes in MiB.
 */
export interface Partition {
  readonly name: string;
  /** undefined: the rest of the disk. */
  readonly sizeMiB?: number;
  /** sgdisk type code. */
  readonly type: string;
}

export interface VolumeSizes {
  readonly root: number;
  readonly var: number;
  readonly log: number;
  readonly scratch: number;
}

export interface DiskLayout {
  readonly partitions: readonly Partition[];
  readonly volumes: VolumeSizes;
  /** The platform_backup partition of a controller, else undefined. */
  readonly backupMiB?: number;
}

/** GPT type GUID of the controller platform_backup partition, kept across reinstalls. */
export const PLATFORM_BACKUP_GUID = "BA5EBA11-0000-1111-2222-000000000002";
/** Ceph OSD data partitions, kept unless sysinv says wipe_osds. */
export const CEPH_OSD_GUIDS = ["4FBD7E29-9D25-41B8-AFD0-062C0CEFF05D", "4FBD7E29-8AE0-4982-BF9D-5A8D867AF560"];

const GiB = 1024;
/** AIO disks under 206 GiB are "tiny": smaller log, scratch and backup. */
export const TINY_AIO_GIB = 206;
/** The platform_backup partition (MiB): the default, and on a tiny AIO disk. */
export const DEFAULT_BACKUP_MIB = 30000;
export const TINY_BACKUP_MIB = 1000;

export function volumeSizes(role: InstallRole, diskGiB: number): VolumeSizes {
  if (role.nodetype === "worker") {
    const rootVar = diskGiB <= 120 ? 10240 : 20480;
    return { root: rootVar, var: rootVar, log: 4096, scratch: 4096 };
  }
  if (role.nodetype === "storage") {
    return diskGiB <= 120 ? { root: 10240, var: 10240, log: 4000, scratch: 4000 } : { root: 20480, var: 20480, log: 8000, scratch: 8000 };
  }
  if (role.aio && diskGiB < TINY_AIO_GIB) return { root: 20480, var: 20480, log: 3000, scratch: 2000 };
  return { root: 20480, var: 20480, log: 8000, scratch: 16000 };
}

/** The platform_backup default: 30000 MiB, or 1000 on a tiny AIO disk; persistent_size may only raise it. */
export function backupSize(role: InstallRole, diskGiB: number, requested?: number): number {
  const floor = role.aio && diskGiB < TINY_AIO_GIB ? TINY_BACKUP_MIB : DEFAULT_BACKUP_MIB;
  return Math.max(floor, requested ?? floor);
}

export class DiskLayoutError extends Error {
  override readonly name = "DiskLayoutError";
}

export function diskLayout(role: InstallRole, profile: Pick<Profile, "diskGiB" | "bootMode" | "persistentSizeMiB">): DiskLayout {
  const controller = role.nodetype === "controller";
  const partitions: Partition[] = [];
  // The BIOS boot partition only when booted BIOS, or on a non-controller (whose layout never carries backup).
  if (profile.bootMode === "bios" || !controller) partitions.push({ name: "bios", sizeMiB: 1, type: "EF02" });
  const backupMiB = controller ? backupSize(role, profile.diskGiB, profile.persistentSizeMiB) : undefined;
  if (backupMiB !== undefined) partitions.push({ name: "platform_backup", sizeMiB: backupMiB, type: PLATFORM_BACKUP_GUID });
  partitions.push({ name: "otaefi", sizeMiB: 300, type: "EF00" }, { name: "otaboot", sizeMiB: 2048, type: "8300" }, { name: "platform_pv", type: "8E00" });
  const volumes = volumeSizes(role, profile.diskGiB);
  const fixed = partitions.reduce((s, p) => s + (p.sizeMiB ?? 0), 0);
  const lvs = volumes.root + volumes.var + volumes.log + volumes.scratch;
  // GPT headers and alignment take a few MiB; keep 8 MiB spare.
  if (fixed + lvs + 8 > profile.diskGiB * GiB) {
    throw new DiskLayoutError(`a ${profile.diskGiB} GiB disk is too small: partitions need ${fixed} MiB and cgts-vg volumes ${lvs} MiB`);
  }
  return { partitions, volumes, ...(backupMiB !== undefined ? { backupMiB } : {}) };
}
