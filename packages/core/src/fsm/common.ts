import { lockPersistParm as configLockPersistParm } from "../config/simplex.js";
import { AR_DISABLED_TASK, type ArCause, DegradeMask } from "../inventory/host.js";
import { goto, type Step } from "./engine.js";
import type { HostCtx } from "./host-context.js";

export const SEC = 1000;

/** Increment a per-run counter in `c.vars` and return the new value. */
export function bump(c: { vars: Record<string, unknown> }, key: string): number {
  const n = ((c.vars[key] as number | undefined) ?? 0) + 1;
  c.vars[key] = n;
  return n;
}
export const MIN = 60 * SEC;

/** Timers of reference §10 (nodeTimers.h) that are code constants, not config. */
export const Timers = {
  recoveryTimeout: 16 * SEC,
  workerConfigTimeout: 840 * SEC,
  resetToOffline: 150 * SEC,
  powerOnToOnline: 900 * SEC,
  taskUpdateDelay: 30 * SEC,
  mnfaRecovery: 3 * SEC,
  lockCephDelay: 90 * SEC,
  reinstallBmcAccess: 600 * SEC,
  heartbeatReadyWait: 60 * SEC,
  addHeartbeatReadyWait: 30 * SEC,
  addHeartbeatReadyWaitDor: 5 * MIN,
  offlinePeriod: 100,
  maxFastEnables: 5,
  unhealthyThreshold: 3,
  insvTestPeriod: 10 * SEC,
  powerOnSkipResetMs: 2 * MIN,
  uptimeFresh: 15 * MIN,
} as const;

/** offline_timeout_secs(): (period × threshold / 1000) × 3 — 27 s by default (reference §2.8). */
export function offlineTimeoutMs(c: HostCtx): number {
  return Timers.offlinePeriod * c.cfg.timeouts.offlineThreshold * 3;
}

/** Clear the task after MTC_TASK_UPDATE_DELAY, unless something else has changed it meanwhile. */
export function holdThenClearTask(c: HostCtx, task: string): void {
  c.setTask(task);
  c.env.clock.setTimeout(() => {
    if (c.rec.task === task) c.setTask("");
  }, Timers.taskUpdateDelay);
}

/** Record an enable failure and go to FAILURE (the stage of whichever handler calls it). */
export function enableFailure(c: HostCtx, cause: ArCause | undefined, task: string): Step {
  c.failureCause = cause;
  c.setTask(task);
  return goto("FAILURE");
}

/**
 * ar_manage (reference §2.5): count a failure of `cause`; past the threshold auto-recovery stops for this host
 * (action none, disabled-failed, the ar-disabled task, which is persisted and restored on restart).
 * Returns true when auto-recovery is now disabled.
 */
export function arManage(c: HostCtx, cause: ArCause): boolean {
  c.rec.autoRecovery = c.rec.autoRecovery ?? {};
  const entry = c.rec.autoRecovery[cause] ?? { count: 0, disabled: false };
  c.rec.autoRecovery[cause] = entry;
  entry.count++;
  c.env.persist(c);
  if (entry.count <= c.cfg.autoRecovery[cause].threshold) return false;
  entry.disabled = true;
  c.env.log.warn({ host: c.name, cause, count: entry.count }, "auto-recovery threshold reached; disabled until lock/unlock");
  c.setAction("none");
  c.setState({ oper: "disabled", avail: "failed" });
  c.setTask(AR_DISABLED_TASK[cause]);
  return true;
}

/** ar_enable: lock/unlock clears every cause's count and the disabled state. */
export function arEnable(c: HostCtx): void {
  if (!c.rec.autoRecovery || Object.keys(c.rec.autoRecovery).length === 0) return;
  c.rec.autoRecovery = {};
  c.env.persist(c);
}

/** force_full_enable: the critical enable alarm, disabled-failed, and a full enable (with reboot). */
export function forceFullEnable(c: HostCtx, reason: string): void {
  c.env.log.warn({ host: c.name, reason }, "forcing full enable");
  c.raise({ id: "200.004", severity: "critical", text: `${c.name} experienced a service-affecting failure; auto-recovery in progress (${reason})` });
  c.rec.degradeMask |= DegradeMask.Enable;
  c.setState({ oper: "disabled", avail: "failed" });
  c.setAction("enable");
}

/** The start/stop host-services command for the host's function (reference §2.7). */
export function hostServicesCommand(c: HostCtx, dir: "start" | "stop") {
  const fn = c.rec.personality;
  if (fn === "controller") return dir === "start" ? "startControlServices" : "stopControlServices";
  if (fn === "storage") return dir === "start" ? "startStorageServices" : "stopStorageServices";
  return dir === "start" ? "startWorkerServices" : "stopWorkerServices";
}

/** LOCK_PERSIST: the persistent node-locked file is kept unless the system is still simplex (config/simplex.ts). */
export function lockPersistParm(c: HostCtx): number {
  return configLockPersistParm(c.cfg);
}

/** Tell SM about a controller's state change (non-self controllers; failures are logged, never fatal). */
export function smNotify(c: HostCtx, op: "locked" | "unlocked" | "disabled" | "enabled"): void {
  if (!c.isController) return;
  c.env.sm.notify(c.name, op, { admin: c.rec.administrative, oper: c.rec.operational, avail: c.rec.availability }).catch((err: unknown) => {
    c.env.log.warn({ host: c.name, op, err: (err as Error).message }, "SM notification failed");
  });
}

/**
 * manage_heartbeat_clear: forget the heartbeat faults of a host whose heartbeat is being (re)started — the
 * hbsAgent starts it with fresh counters, so no DEGRADE_CLR will come for the old ones.
 */
export function clearHeartbeatFaults(c: HostCtx): void {
  c.rec.degradeMask &= ~(DegradeMask.HeartbeatMgmt | DegradeMask.HeartbeatClstr);
  c.heartbeatMinor.clear();
  c.heartbeatLoss = false;
  c.env.mnfa.forget(c.name);
}

/** Post enabled-available, or enabled-degraded when a degrade cause remains. */
export function postEnabled(c: HostCtx): void {
  c.setState({ oper: "enabled", avail: c.rec.degradeMask ? "degraded" : "available" });
}
