import type { HostView } from "../agent/mtc-agent.js";
import type { ApiClient } from "../api/client.js";
import { ApiError } from "../api/client.js";
import { CliError } from "./errors.js";

/** The fields `--wait` looks at. */
export type WaitHost = Pick<HostView, "hostname" | "administrative" | "operational" | "availability" | "action" | "task" | "queued">;

export type WaitVerdict = { state: "pending" } | { state: "done" } | { state: "failed"; reason: string };

const triple = (h: WaitHost) => `${h.administrative}-${h.operational}-${h.availability}`;

/**
 * Where an admin action has got to (`system host-lock --wait` habits): pending while the action runs or is
 * queued; then done when the host is in the action's target state, failed otherwise. Targets: lock and
 * force-lock → locked; unlock → unlocked-enabled (available or degraded); power-off → power-off; the others
 * (reboot, reset, power-on, reinstall, swact) → finished without the host failing. `host` undefined means the
 * host is gone (the target of delete). Pure; reference §1.3 for the states.
 */
export function waitVerdict(action: string, host: WaitHost | undefined): WaitVerdict {
  if (action === "delete") return host ? { state: "pending" } : { state: "done" };
  if (!host) return { state: "failed", reason: "the host was deleted" };
  if (host.action === action || host.queued.includes(action)) return { state: "pending" };
  if (host.action !== "none") {
    // Another action replaced ours (an operator's, or maintenance's own recovery).
    if (host.availability === "failed") return { state: "failed", reason: `${triple(host)} (${host.action})` };
    return { state: "pending" };
  }
  const ok =
    action === "lock" || action === "force-lock"
      ? host.administrative === "locked"
      : action === "unlock"
        ? host.administrative === "unlocked" && host.operational === "enabled" && (host.availability === "available" || host.availability === "degraded")
        : action === "power-off"
          ? host.availability === "power-off"
          : host.availability !== "failed";
  return ok ? { state: "done" } : { state: "failed", reason: triple(host) + (host.task ? ` (${host.task})` : "") };
}

/**
 * Poll the host every `intervalMs` until `waitVerdict` says done (resolve) or failed (CliError, exit 1), or
 * `timeoutS` passes (CliError, exit 1). Writes one progress line to `progress` whenever the host's state or
 * task changes: `HOST: ADMIN-OPER-AVAIL ACTION TASK`.
 */
export async function waitForAction(
  api: ApiClient,
  hostname: string,
  action: string,
  o: { timeoutS: number; intervalMs?: number; progress: NodeJS.WritableStream },
): Promise<WaitHost | undefined> {
  const deadline = Date.now() + o.timeoutS * 1000;
  let last = "";
  let host: WaitHost | undefined;
  for (;;) {
    try {
      host = (await api.request<{ host: WaitHost }>("GET", `/v1/hosts/${encodeURIComponent(hostname)}`)).host;
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw new CliError(`--wait: ${(err as Error).message}`, 1);
      host = undefined;
    }
    const line = host ? `${hostname}: ${triple(host)} ${host.action}${host.task ? ` ${host.task}` : ""}` : `${hostname}: deleted`;
    if (line !== last) {
      o.progress.write(`${line}\n`);
      last = line;
    }
    const v = waitVerdict(action, host);
    if (v.state === "done") return host;
    if (v.state === "failed") throw new CliError(`${hostname}: ${action} failed: ${v.reason}`, 1);
    if (Date.now() > deadline) throw new CliError(`${hostname}: ${action} did not finish within ${o.timeoutS} s (${line.slice(hostname.length + 2)})`, 1);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 500));
  }
}
