import Table from "cli-table3";

export interface LabRow {
  hostname: string;
  address: string;
  state: string;
  lastSeenS: number | null;
  messages: number;
  /** Networks with a fresh mtcAlive: "MCP" = mgmt, cluster-host, pxeboot. */
  networks?: string;
  uptimeS?: number | null;
  goenabled?: string;
  locked?: boolean;
  boots?: number;
  pxebootAlarm?: boolean;
}

/** The live host table the lab prints (and redraws on a terminal). */
export function renderTable(rows: readonly LabRow[], header: string): string {
  const t = new Table({
    head: ["host", "address", "state", "nets", "uptime", "goenabled", "locked", "boots", "200.003", "last seen", "msgs"],
    style: { head: [], border: [] },
  });
  for (const r of rows)
    t.push([
      r.hostname,
      r.address,
      r.state,
      r.networks ?? "-",
      r.uptimeS === undefined || r.uptimeS === null ? "-" : `${r.uptimeS}s`,
      r.goenabled ?? "-",
      r.locked ? "locked" : "",
      String(r.boots ?? "-"),
      r.pxebootAlarm ? "minor" : "",
      r.lastSeenS === null ? "-" : `${r.lastSeenS.toFixed(1)}s ago`,
      String(r.messages),
    ]);
  return `${header}\n${t.toString()}`;
}
