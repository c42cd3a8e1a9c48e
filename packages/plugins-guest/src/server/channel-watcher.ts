import { type FSWatcher, readdirSync, statSync, watch } from "node:fs";
import { join } from "node:path";
import type { Clock, Logger, TimerHandle } from "@metal/core/plugin-api";

/** `cgcs.heartbeat.<uuid>.sock`, and the older `wrs.heartbeat.agent.0.<uuid>.sock` (reference A.2). */
const CHANNEL_NAME = /^(?:cgcs\.heartbeat\.|wrs\.heartbeat\.agent\.0\.)([0-9a-fA-F-]{36})\.sock$/;

/** The instance uuid a channel file name carries, or undefined for any other file. */
export function channelUuid(filename: string): string | undefined {
  return CHANNEL_NAME.exec(filename)?.[1]?.toLowerCase();
}

export function channelFileName(uuid: string): string {
  return `cgcs.heartbeat.${uuid}.sock`;
}

export interface ChannelEvents {
  /** A channel socket appeared (CREATE / MOVED_TO), or was replaced by a new one (MODIFY). */
  added(uuid: string, path: string): void;
  removed(uuid: string): void;
}

/**
 * Watches the QEMU channel directory (reference A.10): fs.watch (inotify on Linux) for creates, deletes,
 * moves and modifications, plus a full rescan every `rescanMs` that catches anything the watch missed
 * (or a directory that did not exist yet). A socket is identified by its inode, so a metadata change
 * (libvirt's chown) does not tear down a working channel, while a re-created socket is re-added.
 */
export class ChannelWatcher {
  private watcher: FSWatcher | undefined;
  private rescanTimer: TimerHandle | undefined;
  private readonly known = new Map<string, { path: string; ino: number }>();

  constructor(
    readonly dir: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly rescanMs: number,
    private readonly events: ChannelEvents,
  ) {}

  start(): void {
    this.watchDir();
    this.scan();
    const tick = () => {
      this.rescanTimer = this.clock.setTimeout(() => {
        this.watchDir();
        this.scan();
        tick();
      }, this.rescanMs);
    };
    tick();
  }

  stop(): void {
    this.clock.clearTimeout(this.rescanTimer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Forget a uuid (its instance was deleted by guestAgent); a later scan may find the socket again. */
  forget(uuid: string): void {
    this.known.delete(uuid);
  }

  /** guestUtil_channel_search: reconcile the directory with what we know. */
  scan(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      this.log.warn({ dir: this.dir, code: (err as NodeJS.ErrnoException).code }, "cannot read the guest channel directory");
      return;
    }
    const present = new Set<string>();
    for (const name of names) {
      const uuid = channelUuid(name);
      if (!uuid) continue;
      present.add(uuid);
      this.check(uuid, join(this.dir, name));
    }
    for (const uuid of [...this.known.keys()]) if (!present.has(uuid)) this.gone(uuid);
  }

  private watchDir(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.dir, { persistent: false }, (_event, filename) => {
        const name = filename?.toString();
        if (!name) return this.scan(); // an event without a name: look at everything
        const uuid = channelUuid(name);
        if (uuid) this.check(uuid, join(this.dir, name));
      });
      this.watcher.on("error", (err) => {
        this.log.warn({ dir: this.dir, err: err.message }, "guest channel directory watch failed; rescans continue");
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.log.warn({ dir: this.dir, code: (err as NodeJS.ErrnoException).code }, "cannot watch the guest channel directory; relying on rescans");
    }
  }

  private check(uuid: string, path: string): void {
    let ino: number;
    try {
      const st = statSync(path);
      if (!st.isSocket()) return;
      ino = st.ino;
    } catch {
      if (this.known.get(uuid)?.path === path) this.gone(uuid);
      return;
    }
    const seen = this.known.get(uuid);
    if (seen && seen.ino === ino && seen.path === path) return;
    if (seen) this.log.info({ uuid, path }, "guest channel replaced; re-adding");
    else this.log.info({ uuid, path }, "guest channel found");
    this.known.set(uuid, { path, ino });
    this.events.added(uuid, path);
  }

  private gone(uuid: string): void {
    this.known.delete(uuid);
    this.log.info({ uuid }, "guest channel deleted");
    this.events.removed(uuid);
  }
}
