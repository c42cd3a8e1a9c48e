import type { AlarmRecord } from "../alarms/sink.js";

/** What the line printer needs of a host (a LabHostResult or an agent HostView). */
export interface LabLineHost {
  hostname: string;
  administrative: string;
  operational: string;
  availability: string;
  task: string;
}

/**
 * The lab's output when stdout is not a terminal (a CI log, `| tee`): instead of redrawing a table, one line per
 * host state change — `LAB-SECONDS HOST ADMIN-OPER-AVAIL TASK` — and one per alarm set or clear —
 * `LAB-SECONDS HOST alarm ID SEVERITY TEXT` (severity `clear` when cleared). Lab seconds with one decimal.
 */
export class LabLinePrinter {
  private readonly last = new Map<string, string>();

  constructor(
    private readonly out: NodeJS.WritableStream,
    /** Lab seconds since the lab started. */
    private readonly labSeconds: () => number,
  ) {}

  /** Print a line for every host whose admin/oper/avail or task changed since the last call (and every new host). */
  hosts(rows: readonly LabLineHost[]): void {
    for (const h of rows) {
      const state = `${h.administrative}-${h.operational}-${h.availability}`;
      const key = `${state}|${h.task}`;
      if (this.last.get(h.hostname) === key) continue;
      this.last.set(h.hostname, key);
      this.write(`${h.hostname} ${state}${h.task ? ` ${h.task}` : ""}`);
    }
  }

  /** Print a raised or cleared alarm; customer logs (200.02x state-change records) are not alarms and are skipped. */
  alarm(r: AlarmRecord): void {
    if (r.operation === "msg") return;
    this.write(`${r.hostname} alarm ${r.id}${r.entity ? ` ${r.entity}` : ""} ${r.operation === "clear" ? "clear" : r.severity} ${r.text}`);
  }

  private write(line: string): void {
    this.out.write(`${this.labSeconds().toFixed(1)} ${line.replace(/[\r\n]+/g, " ")}\n`);
  }
}
