import { type ClusterVault, historyInOrder } from "../wire/cluster-vault.js";

/**
 * The cluster-view summary a controller publishes into etcd (issue 12): from its hbsAgent's cluster vault (reference
 * mtce-core.md §3.4), per heartbeat network, the hosts enabled and responding averaged over the history (the last 20
 * periods). `responding` is the worst network's average: a controller that lost one network sees that much less.
 */
export interface ViewSummary {
  hostname: string;
  /** Wall-clock ms when it was taken. */
  at: number;
  periodMs: number;
  networks: Array<{ network: string; periods: number; enabled: number; responding: number }>;
  /** Min over the networks of the average hosts responding; undefined when the vault has no history yet. */
  responding: number | undefined;
}

const NETWORK_NAME = ["mgmt", "cluster-host"];

/** Summarize this controller's own histories (controller index `self`) of a vault. Pure. */
export function summarizeVault(vault: ClusterVault, self: number, hostname: string, at: number): ViewSummary {
  const networks: ViewSummary["networks"] = [];
  for (const h of vault.histories) {
    if (h.controller !== self) continue;
    const entries = historyInOrder(h);
    if (!entries.length) continue;
    const sum = (f: (e: { hostsEnabled: number; hostsResponding: number }) => number) => entries.reduce((a, e) => a + f(e), 0) / entries.length;
    networks.push({
      network: NETWORK_NAME[h.network] ?? `network-${h.network}`,
      periods: entries.length,
      enabled: round(sum((e) => e.hostsEnabled)),
      responding: round(sum((e) => e.hostsResponding)),
    });
  }
  networks.sort((a, b) => a.network.localeCompare(b.network));
  const responding = networks.length ? Math.min(...networks.map((n) => n.responding)) : undefined;
  return { hostname, at, periodMs: vault.periodMs, networks, responding };
}

const round = (x: number) => Math.round(x * 100) / 100;

export type ViewVerdict = "peer-healthier" | "own-healthier" | "even" | "unknown";

/**
 * The split-brain rule's comparison: the peer's view is healthier when it sees at least `margin` more responding hosts
 * (worst network, averaged over the history) than ours; ours is healthier symmetrically. A missing or empty summary on
 * either side decides nothing ("unknown"). Pure.
 */
export function compareViews(own: ViewSummary | undefined, peer: ViewSummary | undefined, margin: number): ViewVerdict {
  if (own?.responding === undefined || peer?.responding === undefined) return "unknown";
  const d = peer.responding - own.responding;
  if (d >= margin) return "peer-healthier";
  if (-d >= margin) return "own-healthier";
  return "even";
}

/** Parse a published summary (from etcd); undefined when it is not one. Never throws. */
export function parseViewSummary(text: string): ViewSummary | undefined {
  try {
    const v = JSON.parse(text) as Partial<ViewSummary>;
    if (typeof v.hostname !== "string" || typeof v.at !== "number" || !Array.isArray(v.networks)) return undefined;
    if (v.responding !== undefined && (typeof v.responding !== "number" || !Number.isFinite(v.responding))) return undefined;
    for (const n of v.networks) {
      if (typeof n !== "object" || n === null || typeof n.network !== "string" || typeof n.responding !== "number" || typeof n.enabled !== "number")
        return undefined;
    }
    return { hostname: v.hostname, at: v.at, periodMs: typeof v.periodMs === "number" ? v.periodMs : 0, networks: v.networks, responding: v.responding };
  } catch {
    return undefined;
  }
}
