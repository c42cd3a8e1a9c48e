import type { Etcd3, Watcher } from "etcd3";
import { parseStoredHost } from "../inventory/etcd-store.js";
import type { HostRecord } from "../inventory/store.js";
import type { Logger } from "../plugin-api/services.js";

/**
 * The standby's warm copy of the inventory (issue 12): every host under `<prefix>/hosts/`, loaded once and then kept
 * by a watch from the load's revision + 1, so no change between the two is missed (etcd replays history from that
 * revision; the watcher reconnects and resumes after a lost stream). `onChange` fires for every change seen, with
 * the record (or undefined for a delete) — the bench measures the watch lag with it. Bad records are skipped
 * (one log line each).
 */
export class WarmCopy {
  readonly hosts = new Map<string, HostRecord>();
  revision = "0";
  private watcher: Watcher | undefined;
  private readonly listeners: Array<(name: string, host: HostRecord | undefined) => void> = [];

  constructor(
    private readonly etcd: Etcd3,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  onChange(fn: (name: string, host: HostRecord | undefined) => void): void {
    this.listeners.push(fn);
  }

  /** Load and start watching; rejects when etcd cannot be read (the caller retries). */
  async start(): Promise<void> {
    const res = await this.etcd.getAll().prefix(`${this.prefix}/hosts/`).exec();
    this.hosts.clear();
    for (const kv of res.kvs) this.apply(kv.key.toString("utf8"), kv.value.toString("utf8"));
    this.revision = String(res.header.revision);
    const w = await this.etcd
      .watch()
      .prefix(`${this.prefix}/hosts/`)
      .startRevision(String(BigInt(this.revision) + 1n))
      .create();
    w.on("put", (kv) => {
      this.revision = String(kv.mod_revision);
      this.apply(kv.key.toString("utf8"), kv.value.toString("utf8"));
    });
    w.on("delete", (kv) => {
      const name = kv.key.toString("utf8").slice(`${this.prefix}/hosts/`.length);
      this.hosts.delete(name);
      for (const l of this.listeners) l(name, undefined);
    });
    w.on("error", (err) => this.log.warn({ err: err.message }, "warm copy: watch error (the watcher reconnects)"));
    this.watcher = w;
  }

  private apply(key: string, value: string): void {
    const p = parseStoredHost(key, this.prefix, value);
    if (!p.ok) {
      this.log.warn({ key, reason: p.reason }, "warm copy: record is not a host; skipped");
      return;
    }
    this.hosts.set(p.stored.host.hostname, p.stored.host);
    for (const l of this.listeners) l(p.stored.host.hostname, p.stored.host);
  }

  records(): HostRecord[] {
    return [...this.hosts.values()].map((h) => structuredClone(h)).sort((a, b) => a.hostname.localeCompare(b.hostname));
  }

  async stop(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
    await w?.cancel().catch(() => undefined);
  }
}
