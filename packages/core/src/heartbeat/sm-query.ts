/**
 * The SM interface of the hbsAgent (reference mtce-core.md §3.4): requests arrive on loopback `sm_server_port`
 * as JSON `{"origin":"sm","service":"heartbeat","request":"cluster_info","reqid":N}`; reqid 0 is SM's heartbeat
 * (no reply), any other reqid gets the binary vault on `sm_client_port` with reqid filled in.
 * Also the client side, used by `metal hbs cluster`.
 */

import { PLAIN_DATAGRAMS } from "../transport/datagram-auth.js";
import { type ClusterHistory, type ClusterVault, decodeClusterVault, encodeClusterVault, historyInOrder } from "../wire/cluster-vault.js";
import { bindUdp, closeUdp } from "./udp.js";

/** The original reads at most 80 bytes of request. */
export const SM_REQUEST_MAX = 80;

export type SmRequest = { ok: true; reqid: number } | { ok: false; reason: string };

export function parseSmRequest(data: Buffer): SmRequest {
  if (data.length === 0 || data.length > SM_REQUEST_MAX) return { ok: false, reason: `request of ${data.length} bytes (1..${SM_REQUEST_MAX})` };
  const text = data.toString("utf8").replace(/\0+$/, "");
  if (!text.startsWith("{")) return { ok: false, reason: "improperly formatted json string request" };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: "improperly formatted json string request" };
  }
  const r = v as { origin?: unknown; service?: unknown; request?: unknown; reqid?: unknown };
  if (r.origin !== "sm") return { ok: false, reason: "missing primary label 'origin' in request" };
  if (r.service !== "heartbeat" || r.request !== "cluster_info") return { ok: false, reason: "missing service or request labels in request" };
  const reqid = typeof r.reqid === "string" ? Number(r.reqid) : r.reqid;
  if (typeof reqid !== "number" || !Number.isInteger(reqid) || reqid < 0 || reqid > 0xffff) return { ok: false, reason: "bad reqid" };
  return { ok: true, reqid };
}

export function smRequest(reqid: number): Buffer {
  return Buffer.from(JSON.stringify({ origin: "sm", service: "heartbeat", request: "cluster_info", reqid }));
}

export function encodeVaultReply(vault: ClusterVault): Buffer {
  return encodeClusterVault(vault);
}

/**
 * Ask a running hbsAgent for its vault, as SM does: bind the SM client port on loopback, send a request with a
 * fresh reqid, and take the reply carrying that reqid (change notifications carry reqid 0 and are skipped).
 */
export async function queryCluster(options: { serverPort: number; clientPort: number; timeoutMs?: number; reqid?: number }): Promise<ClusterVault> {
  const reqid = options.reqid ?? 1 + Math.floor(Math.random() * 0xfffe);
  let onVault: (data: Buffer) => void = () => {};
  // SM's query is loopback and not part of metal: the original format, keyed or not.
  const sock = await bindUdp("127.0.0.1", options.clientPort, { auth: PLAIN_DATAGRAMS, label: "sm query", onMessage: (data) => onVault(data) });
  try {
    return await new Promise<ClusterVault>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no cluster vault from the hbsAgent on 127.0.0.1:${options.serverPort} within ${options.timeoutMs ?? 2000} ms`)),
        options.timeoutMs ?? 2000,
      );
      onVault = (data) => {
        const d = decodeClusterVault(data);
        if (d.ok && d.vault.reqid === reqid) {
          clearTimeout(timer);
          resolve(d.vault);
        }
      };
      sock.send(smRequest(reqid), options.serverPort, "127.0.0.1", (err) => {
        if (err) {
          clearTimeout(timer);
          reject(err);
        }
      });
    });
  } finally {
    await closeUdp(sock);
  }
}

const NETWORK_NAME = ["mgmt", "cluster-host"];

export interface ClusterViewRow {
  controller: number;
  network: string;
  storage0Responding: boolean;
  smHeartbeatFail: boolean;
  /** Oldest first: hosts enabled vs responding in each of the last periods. */
  entries: Array<{ enabled: number; responding: number }>;
}

export function clusterRows(vault: ClusterVault): ClusterViewRow[] {
  return [...vault.histories]
    .sort((a, b) => a.controller - b.controller || a.network - b.network)
    .map((h: ClusterHistory) => ({
      controller: h.controller,
      network: NETWORK_NAME[h.network] ?? `network-${h.network}`,
      storage0Responding: h.storage0Responding,
      smHeartbeatFail: h.smHeartbeatFail,
      entries: historyInOrder(h).map((e) => ({ enabled: e.hostsEnabled, responding: e.hostsResponding })),
    }));
}

/** One line per controller and network: `controller-0 mgmt  6:6 6:6 ... 6:5` (enabled:responding, oldest first). */
export function formatClusterView(vault: ClusterVault): string {
  const lines = [
    `cluster vault v${vault.version}.${vault.revision} period ${vault.periodMs} ms, storage-0 ${vault.storage0Enabled ? "enabled" : "not enabled"}`,
  ];
  for (const r of clusterRows(vault)) {
    const flags = [
      r.smHeartbeatFail ? "sm-heartbeat-fail" : "",
      vault.storage0Enabled ? (r.storage0Responding ? "storage-0 ok" : "storage-0 not responding") : "",
    ]
      .filter(Boolean)
      .join(", ");
    lines.push(
      `controller-${r.controller} ${r.network.padEnd(12)} ${r.entries.map((e) => `${e.enabled}:${e.responding}`).join(" ")}${flags ? `  (${flags})` : ""}`,
    );
  }
  if (!vault.histories.length) lines.push("(no history yet)");
  return lines.join("\n");
}
