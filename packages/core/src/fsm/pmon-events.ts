/**
 * mtcAgent reactions to pmond's process events (reference mtce-core.md §9 policy, §1.5 codes, §7 200.006):
 *  - MTC_EVENT_PMON_CRIT: alarm 200.006 critical; an unlocked-enabled host fails and is re-enabled (reboot),
 *    except the active controller without an in-service standby, which is degraded (DEGRADE_MASK_PMON) instead;
 *  - MTC_EVENT_PMON_MAJOR: alarm major + DEGRADE_MASK_PMON (pmond repeats it as the degrade refresh);
 *  - MTC_EVENT_PMON_MINOR: alarm minor only; MTC_EVENT_PMON_LOG: a 200.021 log;
 *  - MTC_EVENT_PMON_CLEAR: that process's alarm cleared;
 *  - pmond's MONITOR_READY (it restarted, the host rebooted): every process alarm of the host is dropped;
 *    pmond asserts again whatever is still failing.
 * The 200.006 alarms are per process (entity `process=<name>`); DEGRADE_MASK_PMON stays set while any major or
 * critical 200.006 remains on the host (the hbsAgent's "pmond" one included).
 */
import { DegradeMask } from "../inventory/host.js";
import { type PmonEventKind, pmonEventKind } from "../pmon/pmon-messages.js";
import { forceFullEnable } from "./common.js";
import type { HostCtx, MaintenanceEnv } from "./host-context.js";

export const PMON_ALARM_ID = "200.006";
const PROCESS = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** True when `code` is one of the MTC_EVENT_PMON_* codes. */
export function isPmonEvent(code: number): boolean {
  return pmonEventKind(code) !== undefined;
}

function entity(process: string): string {
  return `process=${process}`;
}

/** DEGRADE_MASK_PMON follows the host's major/critical 200.006 alarms. */
export function refreshPmonDegrade(env: MaintenanceEnv, c: HostCtx): void {
  const degraded = env.alarms.active().some((a) => a.id === PMON_ALARM_ID && a.hostname === c.name && (a.severity === "major" || a.severity === "critical"));
  if (degraded) c.rec.degradeMask |= DegradeMask.Pmon;
  else c.rec.degradeMask &= ~DegradeMask.Pmon;
}

/** One pmon event from a host's pmond. A payload without a valid process name is logged and dropped. */
export function applyPmonEvent(env: MaintenanceEnv, c: HostCtx, code: number, payload: Record<string, unknown>): void {
  const kind = pmonEventKind(code) as PmonEventKind;
  const process = typeof payload.process === "string" && PROCESS.test(payload.process) ? payload.process : undefined;
  if (!process) {
    env.log.warn({ host: c.name, kind }, "pmon event without a valid process name dropped");
    return;
  }
  const reason = typeof payload.reason === "string" ? payload.reason.slice(0, 256) : "";
  const why = reason ? ` (${reason})` : "";
  switch (kind) {
    case "log":
      env.alarms.log("200.021", c.name, `${c.name} process '${process}' failed and is being restarted${why}`);
      return;
    case "clear":
      c.clearAlarm(PMON_ALARM_ID, entity(process));
      refreshPmonDegrade(env, c);
      return;
    case "minor":
    case "major":
      c.raise({ id: PMON_ALARM_ID, severity: kind, entity: entity(process), text: `${c.name} '${process}' process has failed${why}` });
      refreshPmonDegrade(env, c);
      return;
    case "critical":
      criticalProcessFailed(env, c, process, why);
      return;
  }
}

/** critical_process_failed (reference §9). */
function criticalProcessFailed(env: MaintenanceEnv, c: HostCtx, process: string, why: string): void {
  c.raise({
    id: PMON_ALARM_ID,
    severity: "critical",
    entity: entity(process),
    text: `${c.name} critical '${process}' process has failed and could not be auto-recovered gracefully${why}`,
  });
  refreshPmonDegrade(env, c);
  if (c.locked || c.rec.operational !== "enabled" || c.action !== "none") return;
  if (c.isSelf && !c.inServicePeerController()) {
    // The only in-service controller is not failed (that would take the system down): it stays degraded.
    env.log.warn({ host: c.name, process }, "critical process failure on the active controller without a standby: degraded, not failed");
    return;
  }
  env.alarms.log("200.022", c.name, `${c.name} critical process '${process}' failed`);
  forceFullEnable(c, `critical process '${process}' failed`);
}

/** pmond (re)started on the host: its process alarms start afresh. */
export function pmondReady(env: MaintenanceEnv, c: HostCtx): void {
  for (const a of env.alarms.active()) {
    if (a.id === PMON_ALARM_ID && a.hostname === c.name && a.entity !== "process=pmond" && a.entity?.startsWith("process="))
      c.clearAlarm(PMON_ALARM_ID, a.entity);
  }
  refreshPmonDegrade(env, c);
}
