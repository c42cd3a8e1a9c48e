/**
 * This controller's heartbeat cluster vault (reference mtce-core.md §3.4): its own history per network, appended
 * every period, and the peer controller's histories learned from pulse responses, with a 0:0 entry injected for
 * every period in which no response carried the peer's view. SM reads it to decide which controller sees more.
 */
import {
  type ClusterHistory,
  type ClusterVault,
  cloneHistory,
  emptyHistory,
  emptyVault,
  VAULT_HISTORY_ENTRIES,
  VAULT_MAX_HISTORIES,
  VaultNetwork,
} from "../wire/cluster-vault.js";
import type { HbsNetwork } from "./hbs-messages.js";

/** Misses in a row before a network's history says storage-0 is not responding (STORAGE_0_NR_THRESHOLD). */
export const STORAGE_0_NR_THRESHOLD = 4;

export class ClusterView {
  private vault: ClusterVault;
  private monitoredHosts = 0;
  private readonly storage0Misses: Record<HbsNetwork, number> = { mgmt: 0, clusterHost: 0 };
  private gotPeerHistory = false;
  private peerHistoryMissing = false;
  /** Whether the peer controller is among the monitored hosts (only then is its view expected). */
  peerEnabled = false;
  private changes: string[] = [];

  constructor(
    readonly thisController: number,
    periodMs: number,
  ) {
    this.vault = emptyVault(periodMs);
  }

  get periodMs(): number {
    return this.vault.periodMs;
  }

  /** A period change (MNFA backoff/recover) restarts the picture at the new period. */
  setPeriod(periodMs: number, reason: string): void {
    if (periodMs === this.vault.periodMs) return;
    this.vault.periodMs = periodMs;
    this.change(reason);
  }

  setMonitored(count: number, storage0: boolean): void {
    if (count !== this.monitoredHosts) this.change(`monitored hosts ${this.monitoredHosts} -> ${count}`);
    this.monitoredHosts = count;
    // Down to no monitored host: start fresh, as the original does.
    if (count === 0) this.vault = emptyVault(this.vault.periodMs);
    if (this.vault.storage0Enabled !== storage0) {
      this.vault.storage0Enabled = storage0;
      this.change("storage-0 state change");
    }
  }

  change(reason: string): void {
    this.changes.push(reason);
  }

  /** The reasons gathered since the last call (for the change notifier), or undefined when nothing changed. */
  takeChanges(): string | undefined {
    if (!this.changes.length) return undefined;
    const r = this.changes.join(",");
    this.changes = [];
    return r;
  }

  periodStart(): void {
    this.gotPeerHistory = false;
  }

  private find(controller: number, network: number): ClusterHistory | undefined {
    return this.vault.histories.find((h) => h.controller === controller && h.network === network);
  }

  /**
   * Append this controller's entry for one network: {monitored, monitored - not responding}, with the
   * storage-0 responding bit debounced (4 misses in a row to clear it, one response to set it).
   */
  update(network: HbsNetwork, notResponding: number, storage0Responding: boolean, smHeartbeatOk: boolean): void {
    if (this.monitoredHosts === 0) return;
    const n = VaultNetwork[network];
    let h = this.find(this.thisController, n);
    if (!h) {
      if (this.vault.histories.length >= VAULT_MAX_HISTORIES) return;
      h = emptyHistory(this.thisController, n);
      this.vault.histories.push(h);
    }
    if (this.vault.storage0Enabled) {
      if (storage0Responding) {
        h.storage0Responding = true;
        this.storage0Misses[network] = 0;
      } else if (++this.storage0Misses[network] >= STORAGE_0_NR_THRESHOLD) {
        h.storage0Responding = false;
      }
    } else {
      h.storage0Responding = false;
      this.storage0Misses[network] = 0;
    }
    h.smHeartbeatFail = !smHeartbeatOk;
    const e = h.entry[h.oldestEntryIndex];
    if (e) {
      e.hostsEnabled = this.monitoredHosts;
      e.hostsResponding = Math.max(0, this.monitoredHosts - notResponding);
    }
    if (h.entries < VAULT_HISTORY_ENTRIES) h.entries++;
    h.oldestEntryIndex = (h.oldestEntryIndex + 1) % VAULT_HISTORY_ENTRIES;
  }

  /** Save the peer controller's histories from a pulse response (hbs_cluster_save); ours are ignored. */
  savePeer(vault: ClusterVault): void {
    if (!this.monitoredHosts || !this.peerEnabled) return;
    for (const sample of vault.histories) {
      if (sample.network > VaultNetwork.clusterHost || sample.controller === this.thisController) continue;
      this.gotPeerHistory = true;
      const existing = this.vault.histories.findIndex((h) => h.controller === sample.controller && h.network === sample.network);
      if (existing >= 0) this.vault.histories[existing] = cloneHistory(sample);
      else if (this.vault.histories.length < VAULT_MAX_HISTORIES) this.vault.histories.push(cloneHistory(sample));
    }
  }

  /** End of period: when no response carried the peer's view, inject 0:0 into each of its histories. */
  peerPeriodEnd(): void {
    if (!this.peerEnabled) return;
    if (!this.gotPeerHistory) {
      this.peerHistoryMissing = true;
      let changed = false;
      for (const h of this.vault.histories) {
        if (h.controller === this.thisController) continue;
        const e = h.entry[h.oldestEntryIndex];
        if (e && (e.hostsEnabled || e.hostsResponding)) {
          e.hostsEnabled = 0;
          e.hostsResponding = 0;
          changed = true;
        }
        h.oldestEntryIndex = (h.oldestEntryIndex + 1) % VAULT_HISTORY_ENTRIES;
      }
      if (changed) this.change("missing peer controller view");
    } else if (this.peerHistoryMissing) {
      this.peerHistoryMissing = false;
      this.change("receiving peer controller view");
    }
  }

  /** This controller is locked: clear every history (and the caller stops appending). */
  lock(): void {
    if (!this.vault.histories.length) return;
    this.vault.histories = [];
    this.change("this controller locked");
  }

  /** This controller's own histories, for the pulse requests. */
  ownHistories(): ClusterVault {
    return { ...this.vault, reqid: 0, histories: this.vault.histories.filter((h) => h.controller === this.thisController).map(cloneHistory) };
  }

  /** The whole vault, as sent to SM. */
  snapshot(reqid = 0): ClusterVault {
    return { ...this.vault, reqid, histories: this.vault.histories.map(cloneHistory) };
  }
}
