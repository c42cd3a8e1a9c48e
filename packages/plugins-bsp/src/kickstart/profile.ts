import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/**
 * The hardware and release facts a kickstart is generated for. The original kickstart probes these at
 * install time; `metal bsp kickstart` takes them as a profile so that the layout, sizes and kernel
 * arguments are visible (and reviewable) before a node is installed. Every field has a default.
 */
export const profileSchema = z
  .object({
    swVersion: z
      .string()
      .regex(/^\d{1,4}\.\d{1,4}(\.\d{1,4})?$/, "must look like 24.09")
      .default("24.09"),
    /** Install disk size. */
    diskGiB: z.number().int().min(20).max(1_000_000).default(500),
    bootMode: z.enum(["uefi", "bios"]).default("uefi"),
    /** Logical CPUs. */
    cpus: z.number().int().min(1).max(4096).default(16),
    /** CPUs kept for the platform on a worker or AIO (kthread_cpus); the rest are isolated. */
    platformCpus: z.number().int().min(1).max(4096).optional(),
    cpuVendor: z.enum(["intel", "amd"]).default("intel"),
    /** /proc/cpuinfo model; 79 (Broadwell-EP) needs kvm-intel.eptad=0. */
    cpuModel: z.number().int().min(0).max(1000).optional(),
    /** DMI product name; ProLiant Gen8 needs intel_iommu=on,eth_no_rmrr. */
    productName: z.string().max(128).optional(),
    /** NUMA node 0 memory, for the AIO worker_reserved.conf. */
    node0MemoryMiB: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(65536),
    httpPort: z.number().int().min(1).max(65535).default(8080),
    hwSettle: z.number().int().min(0).max(3600).default(0),
    /** platform_backup size (controllers); never below the default for the disk. */
    persistentSizeMiB: z.number().int().min(1).max(1_000_000).optional(),
    /** Debian 13 needs SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 for the v1 cgroup hierarchy. */
    debianRelease: z.number().int().min(11).max(20).default(12),
  })
  .strict();

export type Profile = z.output<typeof profileSchema>;

export class ProfileError extends Error {
  override readonly name = "ProfileError";
}

export function parseProfile(doc: unknown, source = "profile"): Profile {
  const r = profileSchema.safeParse(doc ?? {});
  if (!r.success) throw new ProfileError(`${source}: ${r.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`).join("; ")}`);
  return r.data;
}

export async function loadProfile(file: string | undefined): Promise<Profile> {
  if (!file) return parseProfile({});
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ProfileError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseProfile(parseYaml(text, { maxAliasCount: 100 }), file);
  } catch (err) {
    if (err instanceof ProfileError) throw err;
    throw new ProfileError(`${file}: not valid YAML/JSON: ${(err as Error).message.split("\n")[0]}`);
  }
}
