import { type ClusterViewRow, clusterRows, queryCluster } from "../heartbeat/sm-query.js";
import type { ClusterVault } from "../wire/cluster-vault.js";

/** The heartbeat cluster view as the API serves it (`GET /v1/cluster`): the vault's rows, oldest period first. */
export interface ClusterSnapshot {
  periodMs: number;
  storage0Enabled: boolean;
  /** Per controller and network: hosts enabled vs responding in each of the last 20 periods. */
  rows: ClusterViewRow[];
  /** Milliseconds since the epoch when the vault was read. */
  at: number;
}

export type ClusterFetch = () => Promise<ClusterVault>;

/**
 * Reads the local hbsAgent's cluster vault the way SM does (reference §3.4, sm-query.ts), at most once per
 * `minIntervalMs` whoever asks: concurrent callers share one query (the SM client port can be bound once),
 * and callers within the interval get the last answer. Errors carry `code: "HBS_UNAVAILABLE"`.
 */
export class ClusterSource {
  private last: ClusterSnapshot | undefined;
  private inflight: Promise<ClusterSnapshot> | undefined;

  constructor(
    private readonly fetchVault: ClusterFetch,
    private readonly minIntervalMs = 250,
  ) {}

  /** A source asking the hbsAgent on loopback at the configured SM ports. */
  static sm(ports: { smServer: number; smClient: number }, timeoutMs = 1000): ClusterSource {
    return new ClusterSource(() => queryCluster({ serverPort: ports.smServer, clientPort: ports.smClient, timeoutMs }));
  }

  get(): Promise<ClusterSnapshot> {
    if (this.last && Date.now() - this.last.at < this.minIntervalMs) return Promise.resolve(this.last);
    if (this.inflight) return this.inflight;
    this.inflight = this.fetchVault()
      .then((vault) => {
        this.last = { periodMs: vault.periodMs, storage0Enabled: vault.storage0Enabled, rows: clusterRows(vault), at: Date.now() };
        return this.last;
      })
      .catch((err: Error) => {
        throw Object.assign(new Error(`no heartbeat cluster view: ${err.message}`), { code: "HBS_UNAVAILABLE" });
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
