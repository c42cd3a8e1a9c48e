import { type InstallRole, systemType, traitsString } from "../hosts/traits.js";
import { diskLayout, type Partition, type VolumeSizes } from "./disk-layout.js";
import { aioReservedMiB, kernelArgs } from "./kernel-args.js";
import { platformConf, presetName } from "./platform-conf.js";
import type { Profile } from "./profile.js";

/**
 * What the unified kickstart gives a node of this role and hardware, booted with these boot-line words:
 * the rules the kickstart applies at install time (reference B.7), evaluated here in TypeScript. This is
 * `metal bsp kickstart --traits T --disk-gib N --cpus N` and the reference `--check` runs the kickstart's
 * own functions against. Throws DiskLayoutError / KernelArgsError when the hardware cannot hold the role.
 */
export interface InstallPreview {
  traits: string;
  nodetype: InstallRole["nodetype"];
  systemType: "All-in-one" | "Standard";
  preset: string;
  platformConf: Record<string, string>;
  partitions: Partition[];
  volumes: VolumeSizes;
  backupMiB?: number;
  kernelParams: string[];
  workerReserved?: { node0ReservedMiB: number; workerCpuList: string };
}

/** The boot-line words a profile's preview fields stand for: hwSettle and persistentSizeMiB. */
export function profileBootArgs(profile: Pick<Profile, "hwSettle" | "persistentSizeMiB">): string[] {
  const words: string[] = [];
  if (profile.hwSettle > 0) words.push(`insthwsettle=${profile.hwSettle}`);
  if (profile.persistentSizeMiB !== undefined) words.push(`persistent_size=${profile.persistentSizeMiB}`);
  return words;
}

export function previewInstall(role: InstallRole, profile: Profile, bootArgs: readonly string[] = []): InstallPreview {
  const words = [...profileBootArgs(profile), ...bootArgs];
  const persistent = words.findLast((w) => w.startsWith("persistent_size="))?.slice("persistent_size=".length);
  const layout = diskLayout(role, {
    ...profile,
    persistentSizeMiB: persistent && /^\d+$/.test(persistent) ? Number(persistent) : undefined,
  });
  const preview: InstallPreview = {
    traits: traitsString(role),
    nodetype: role.nodetype,
    systemType: systemType(role),
    preset: presetName(role),
    platformConf: platformConf(role, profile.httpPort),
    partitions: [...layout.partitions],
    volumes: layout.volumes,
    kernelParams: kernelArgs(role, profile, words),
  };
  if (layout.backupMiB !== undefined) preview.backupMiB = layout.backupMiB;
  if (role.aio) preview.workerReserved = { node0ReservedMiB: aioReservedMiB(profile.node0MemoryMiB), workerCpuList: `0-${profile.cpus - 1}` };
  return preview;
}
