import { join } from "node:path";

/**
 * Every file and directory the daemons touch (reference mtce-core.md §5, §8), resolved under
 * the configured root so tests and the lab run in temp dirs.
 */
export function nodePaths(root: string) {
  const at = (p: string) => join(root, p);
  return {
    root,
    varRun: at("/var/run"),
    persistMtc: at("/var/persist/mtc"),
    nodeLocked: at("/var/run/.node_locked"),
    nodeLockedPersist: at("/var/persist/mtc/.node_locked"),
    nodeLockedLegacy: at("/etc/mtc/tmp/.node_locked"),
    nodeUnlocked: at("/var/persist/mtc/.node_unlocked"),
    arCount: (host: string) => at(`/var/persist/mtc/${host}_ar_count`),
    initialConfigComplete: at("/etc/platform/.initial_config_complete"),
    configPass: at("/var/run/.config_pass"),
    configFail: at("/var/run/.config_fail"),
    controllerConfigComplete: at("/var/run/.controller_config_complete"),
    workerConfigComplete: at("/var/run/.worker_config_complete"),
    storageConfigComplete: at("/var/run/.storage_config_complete"),
    goenabledMainReady: at("/var/run/.goenabled"),
    goenabledSubfReady: at("/var/run/.goenabled_subf"),
    goenabledPass: at("/var/run/goenabled"),
    goenabledSubfPass: at("/var/run/goenabled_subf"),
    goenabledFailed: at("/var/run/goenabled_failed"),
    goenabledSubfFailed: at("/var/run/goenabled_subf_failed"),
    nodeReset: at("/var/run/.node_reset"),
    smDegraded: at("/var/run/.sm_degraded"),
    smUnhealthy: at("/var/run/.sm_node_unhealthy"),
    smResetPeer: at("/var/run/.sm_reset_peer"),
    simplex: at("/etc/platform/simplex"),
    unlockReady: at("/etc/platform/.unlock_ready"),
    patchInstalling: at("/var/run/patch_installing"),
    nodeIsPatched: at("/var/run/node_is_patched"),
    virtualHost: at("/var/run/virtual.host"),
    podDrainDone: at("/var/run/pod_drain_done"),
    goenabledDir: at("/etc/goenabled.d"),
    servicesDir: (fn: string) => at(`/etc/services.d/${fn}`),
    /** Agent-side durable state (inventory, alarms, history). */
    agentState: at("/var/lib/metal"),
    logDir: at("/var/log/metal"),
  };
}

export type NodePaths = ReturnType<typeof nodePaths>;
