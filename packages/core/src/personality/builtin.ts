import type { HostProfile, PersonalityHooks, ServiceFunction } from "../plugin-api/personality.js";

const has = (h: HostProfile, f: ServiceFunction) => h.subfunctions.includes(f);
const isAio = (h: HostProfile) => has(h, "controller") && has(h, "worker");

/**
 * The built-in hooks (reference mtce-core.md §8): which host-services directories start, boot timeouts
 * (controller 1200 s, worker 720 s), the storage ceph lock delay (90 s), and the cluster-host
 * degrade-only rule for controllers of standard systems.
 */
export function builtinPersonalities(timeouts: { controllerBoot: number; workerBoot: number }): PersonalityHooks[] {
  const aio: PersonalityHooks = {
    name: "aio",
    matches: isAio,
    // AIO: controller services after the main pass, worker (and storage) services after the subf pass.
    hostServiceFunctions: (h) => (has(h, "storage") ? ["controller", "worker", "storage"] : ["controller", "worker"]),
    hasSubfunctionEnable: () => true,
    bootTimeoutSeconds: () => timeouts.controllerBoot,
    lockDelaySeconds: () => 0,
    clusterHostDegradeOnly: () => false,
  };
  const controller: PersonalityHooks = {
    name: "controller",
    matches: (h) => has(h, "controller"),
    hostServiceFunctions: () => ["controller"],
    hasSubfunctionEnable: () => false,
    bootTimeoutSeconds: () => timeouts.controllerBoot,
    lockDelaySeconds: () => 0,
    clusterHostDegradeOnly: (h) => h.systemType === "standard",
  };
  const storage: PersonalityHooks = {
    name: "storage",
    matches: (h) => has(h, "storage"),
    hostServiceFunctions: () => ["storage"],
    hasSubfunctionEnable: () => false,
    bootTimeoutSeconds: () => timeouts.workerBoot,
    lockDelaySeconds: () => 90,
    clusterHostDegradeOnly: () => false,
  };
  const worker: PersonalityHooks = {
    name: "worker",
    matches: (h) => has(h, "worker"),
    hostServiceFunctions: () => ["worker"],
    hasSubfunctionEnable: () => false,
    bootTimeoutSeconds: () => timeouts.workerBoot,
    lockDelaySeconds: () => 0,
    clusterHostDegradeOnly: () => false,
  };
  // Order matters: AIO before controller, since an AIO host also has the controller function.
  return [aio, controller, storage, worker];
}
