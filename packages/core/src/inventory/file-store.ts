import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { HostRecord, InventoryStore } from "./store.js";

const SUFFIX = ".host.json";
const TEMP = ".tmp";

/**
 * One JSON file per host under `dir`. Every save writes a temp file, fsyncs it, renames it over the old
 * file and fsyncs the directory, so a kill -9 at any instant leaves either the old or the new record,
 * never a torn one. Leftover temp files (a kill between write and rename) are ignored and swept on load.
 */
export class FileInventoryStore implements InventoryStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  async load(): Promise<HostRecord[]> {
    return this.loadSync();
  }

  loadSync(): HostRecord[] {
    const hosts: HostRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (name.endsWith(TEMP)) {
        unlinkSync(path);
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      try {
        const rec = JSON.parse(readFileSync(path, "utf8")) as HostRecord;
        if (typeof rec.hostname === "string" && `${rec.hostname}${SUFFIX}` === name) hosts.push(rec);
      } catch {
        // Unreadable records cannot come from this store's own writes; leave the file for an operator.
      }
    }
    return hosts.sort((a, b) => a.hostname.localeCompare(b.hostname));
  }

  async save(host: HostRecord): Promise<void> {
    this.saveSync(host);
  }

  saveSync(host: HostRecord): void {
    const final = join(this.dir, `${host.hostname}${SUFFIX}`);
    const temp = `${final}.${process.pid}${TEMP}`;
    const fd = openSync(temp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(host));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, final);
    this.syncDir();
  }

  async remove(hostname: string): Promise<void> {
    try {
      unlinkSync(join(this.dir, `${hostname}${SUFFIX}`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    this.syncDir();
  }

  /** The rename itself is only durable once the directory entry is on disk. */
  private syncDir(): void {
    const fd = openSync(this.dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** An in-memory store for tests and the bench. */
export class MemoryInventoryStore implements InventoryStore {
  readonly records = new Map<string, HostRecord>();
  saves = 0;
  async load(): Promise<HostRecord[]> {
    return [...this.records.values()].map((r) => structuredClone(r));
  }
  async save(host: HostRecord): Promise<void> {
    this.saves++;
    this.records.set(host.hostname, structuredClone(host));
  }
  async remove(hostname: string): Promise<void> {
    this.records.delete(hostname);
  }
}
