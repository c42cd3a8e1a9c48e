import { execa } from "execa";
import type { CorrectiveAction, Health } from "../channel/messages.js";

export interface HealthReport {
  health: Health;
  action: CorrectiveAction;
  log: string;
}

const PRIORITY: Record<CorrectiveAction, number> = { unknown: 0, none: 1, log: 2, reboot: 3, stop: 4 };

/** guest_heartbeat_merge_action: stop > reboot > log > none. */
export function mergeAction(a: CorrectiveAction, b: CorrectiveAction): CorrectiveAction {
  return PRIORITY[a] >= PRIORITY[b] ? a : b;
}

/** Run the health-check script: exit 0 is healthy; otherwise its first stdout line says why. */
export async function runHealthScript(script: string, timeoutMs: number): Promise<{ healthy: boolean; log: string }> {
  const r = await execa(script, [], { reject: false, timeout: timeoutMs, stdin: "ignore" });
  if (r.exitCode === 0) return { healthy: true, log: "" };
  const first = String(r.stdout ?? "").split("\n")[0] ?? "";
  return { healthy: false, log: first || (r.timedOut ? "health check timed out" : `health check failed (rc ${r.exitCode ?? "signal"})`) };
}

/**
 * While unhealthy, the guest repeats its corrective action at most once per damping period and sends
 * `none` in between (guest_heartbeat_enabled_state.c), so the VIM is not asked to reboot every second.
 */
export class HealthDamper {
  private lastActionAt: number | undefined;

  constructor(private readonly dampMs = 60_000) {}

  apply(report: HealthReport, now: number): HealthReport {
    if (report.health === "healthy") {
      this.lastActionAt = undefined;
      return report;
    }
    if (this.lastActionAt !== undefined && now - this.lastActionAt < this.dampMs) return { ...report, action: "none" };
    this.lastActionAt = now;
    return report;
  }
}
