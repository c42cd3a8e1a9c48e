import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { NodePaths } from "../config/paths.js";

/** ADMIN_LOCKED_STR: the content of the node-locked files. */
export const ADMIN_LOCKED_STR = "This node is currently in the administratively locked state.";

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

async function put(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${ADMIN_LOCKED_STR}\n`, { mode: 0o644 });
}

/**
 * The node-locked flag files (reference §5): `/var/run/.node_locked` (volatile; hbsClient, hostwd and SM read
 * it) and `/var/persist/mtc/.node_locked` (survives reboot; only with LOCK_PERSIST, i.e. not simplex).
 */
export class NodeLockedFiles {
  constructor(private readonly paths: NodePaths) {}

  /** MTC_MSG_LOCKED: create the volatile file; the persistent one too with LOCK_PERSIST, else remove it. */
  async lock(persist: boolean): Promise<void> {
    await put(this.paths.nodeLocked);
    if (persist) await put(this.paths.nodeLockedPersist);
    else await rm(this.paths.nodeLockedPersist, { force: true });
  }

  /** MTC_MSG_UNLOCKED: remove both. */
  async unlock(): Promise<void> {
    await rm(this.paths.nodeLocked, { force: true });
    await rm(this.paths.nodeLockedPersist, { force: true });
  }

  /**
   * At client start the persistent file decides: present → recreate the volatile one; absent → delete it.
   * The legacy `/etc/mtc/tmp/.node_locked` is removed.
   */
  async restoreAtStart(): Promise<boolean> {
    await rm(this.paths.nodeLockedLegacy, { force: true });
    if (await exists(this.paths.nodeLockedPersist)) {
      await put(this.paths.nodeLocked);
      return true;
    }
    await rm(this.paths.nodeLocked, { force: true });
    return false;
  }

  isLocked(): Promise<boolean> {
    return exists(this.paths.nodeLocked);
  }
}
