import type { InstallRole } from "../hosts/traits.js";
import type { Profile } from "./profile.js";

/**
 * The installed node's kernel arguments, written as `kernel_params=` into boot.env (reference B.7 step 8).
 * Worker and AIO get hugepages and CPU isolation; lowlatency gets the tick and watchdog tuning; controller
 * and storage turn the IOMMU off.
 */
export class KernelArgsError extends Error {
  override readonly name = "KernelArgsError";
}

/** `0-3` style CPU range; a single CPU prints as `5`. */
function cpuRange(first: number, last: number): string {
  return first === last ? String(first) : `${first}-${last}`;
}

/** How many CPUs the platform keeps by default: one on a worker, two on an AIO. */
export function platformCpuCount(role: InstallRole, profile: Pick<Profile, "platformCpus">): number {
  return profile.platformCpus ?? (role.aio ? 2 : 1);
}

/** Boot-line words the installed node keeps (reference B.6): the original copies them into kernel_params. */
export const SECURITY_BOOT_ARGS = ["nopti", "nospectre_v1", "nospectre_v2"] as const;

/**
 * The kernel arguments for a role on this hardware, given the installer's boot line (its words): the
 * security arguments and `insthwsettle=N` on it carry over to the installed node, as the original does.
 * The unified kickstart computes the same list at install time (install-functions.ts); `--check` compares.
 * Throws KernelArgsError when the CPUs cannot hold the role.
 */
export function kernelArgs(role: InstallRole, profile: Profile, bootArgs: readonly string[] = []): string[] {
  const args: string[] = SECURITY_BOOT_ARGS.filter((a) => bootArgs.includes(a));
  const vendor = profile.cpuVendor;
  const computes = role.aio || role.nodetype === "worker";
  if (computes) {
    if (role.aio && profile.cpus < 4) throw new KernelArgsError(`an All-in-one needs at least 4 CPUs (profile has ${profile.cpus})`);
    const platform = platformCpuCount(role, profile);
    if (platform >= profile.cpus) throw new KernelArgsError(`platformCpus ${platform} leaves no CPU for applications (profile has ${profile.cpus})`);
    const platformCpus = cpuRange(0, platform - 1);
    const appCpus = cpuRange(platform, profile.cpus - 1);
    args.push("iommu=pt", "hugepagesz=2M", "hugepages=0", "default_hugepagesz=2M");
    args.push(`rcu_nocbs=${appCpus}`, `kthread_cpus=${platformCpus}`, `irqaffinity=${appCpus}`);
    if (role.lowlatency) args.push(`nohz_full=${appCpus}`);
    args.push(...(role.lowlatency ? ["nmi_watchdog=0", "softlockup_panic=0", "skew_tick=1"] : ["nmi_watchdog=panic,1", "softlockup_panic=1"]));
    if (vendor === "amd") args.push("amd_iommu=on");
    else args.push(/ProLiant.*Gen8/.test(profile.productName ?? "") ? "intel_iommu=on,eth_no_rmrr" : "intel_iommu=on");
    if (vendor === "intel" && profile.cpuModel === 79) args.push("kvm-intel.eptad=0");
  } else {
    args.push(`${vendor}_iommu=off`, "usbcore.autosuspend=-1");
    if (role.nodetype === "controller") args.push("loop.max_part=15");
    args.push("nmi_watchdog=panic,1", "softlockup_panic=1");
  }
  args.push("selinux=0", "enforcing=0", "softdog.soft_panic=1", "systemd.unified_cgroup_hierarchy=0");
  if (profile.debianRelease >= 13) args.push("SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1");
  args.push("user_namespace.enable=1", "biosdevname=0");
  const settle = bootArgs.findLast((a) => a.startsWith("insthwsettle="))?.slice("insthwsettle=".length) ?? "";
  if (/^\d+$/.test(settle) && Number(settle) > 0) args.push(`hwsettle=${Number(settle)}`);
  return args;
}

/**
 * The AIO worker_reserved.conf node-0 reservation, as the reference states it: R = node-0 MemTotal MiB;
 * below 6144 → 6144; above 14500 → 14500; else above 8192 → 8192.
 */
export function aioReservedMiB(node0MemoryMiB: number): number {
  if (node0MemoryMiB < 6144) return 6144;
  if (node0MemoryMiB > 14500) return 14500;
  if (node0MemoryMiB > 8192) return 8192;
  return node0MemoryMiB;
}
