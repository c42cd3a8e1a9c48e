import Table from "cli-table3";

export interface LabRow {
  hostname: string;
  address: string;
  state: string;
  lastSeenS: number | null;
  messages: number;
}

/** The live host table the lab prints (and redraws on a terminal). */
export function renderTable(rows: readonly LabRow[], header: string): string {
  const t = new Table({ head: ["host", "address", "state", "last seen", "msgs"], style: { head: [], border: [] } });
  for (const r of rows) t.push([r.hostname, r.address, r.state, r.lastSeenS === null ? "-" : `${r.lastSeenS.toFixed(1)}s ago`, String(r.messages)]);
  return `${header}\n${t.toString()}`;
}
