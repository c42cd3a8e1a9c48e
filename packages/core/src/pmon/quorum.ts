/**
 * pmond → hostwd quorum report (reference mtce-core.md §9): one JSON line per connection on hostwd's UNIX socket,
 * `{"service":"pmond","hostname":..,"quorum":"ok"|"failed","failed":[process names]}`. The original sends a C
 * struct on a datagram socket; Node has no UNIX datagram sockets, so metal uses a stream per report.
 */

export interface QuorumReport {
  hostname: string;
  quorum: "ok" | "failed";
  /** The quorum processes that could not be recovered. */
  failed: string[];
}

const MAX_REPORT_BYTES = 8192;

export function encodeQuorumReport(r: QuorumReport): string {
  return `${JSON.stringify({ service: "pmond", hostname: r.hostname, quorum: r.quorum, failed: r.failed })}\n`;
}

/** Decode one report line; never throws. */
export function decodeQuorumReport(line: string): { ok: true; value: QuorumReport } | { ok: false; reason: string } {
  if (line.length > MAX_REPORT_BYTES) return { ok: false, reason: `report too long (${line.length} bytes)` };
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: `bad JSON: ${(err as Error).message}` };
  }
  const o = v as { service?: unknown; hostname?: unknown; quorum?: unknown; failed?: unknown } | null;
  if (!o || typeof o !== "object" || Array.isArray(o)) return { ok: false, reason: "report is not an object" };
  if (o.service !== "pmond") return { ok: false, reason: "report is not from pmond" };
  if (o.quorum !== "ok" && o.quorum !== "failed") return { ok: false, reason: "quorum must be ok or failed" };
  const failed = Array.isArray(o.failed) ? o.failed.filter((x): x is string => typeof x === "string").map((x) => x.slice(0, 64)) : [];
  return { ok: true, value: { hostname: typeof o.hostname === "string" ? o.hostname.slice(0, 64) : "", quorum: o.quorum, failed: failed.slice(0, 100) } };
}

/** Split a stream's text into complete lines, keeping the unfinished tail (bounded). */
export function takeLines(buffered: string, chunk: string): { lines: string[]; rest: string } {
  const text = buffered + chunk;
  const parts = text.split("\n");
  const rest = (parts.pop() ?? "").slice(-MAX_REPORT_BYTES - 1);
  return { lines: parts.filter((l) => l.trim().length > 0), rest };
}
