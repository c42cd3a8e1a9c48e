/**
 * pmond's process handler (reference mtce-core.md §9, pmonFsm.cpp pmon_passive_handler; PMON_STAGE__* names).
 * Passive mode watches the pid (a child's exit event, else the pidfile and kill(pid, 0)); active mode adds the
 * ping-pong of active.ts while MONITOR; status mode runs the status script every `period` instead. A failure
 * goes to MANAGE, which applies the restart/debounce/severity/quorum policy:
 *  - restarts == 0: alarm at the process severity (critical: MTC_EVENT_PMON_CRIT) and IGNORE;
 *  - otherwise LOG on the first failure, restart (then every `interval` s); more than `restarts` failures
 *    before a good debounce raise the alarm at its severity and restarting goes on;
 *  - staying up `debounce` s after `startuptime` clears the failures, the alarm (MTC_EVENT_PMON_CLEAR) and the quorum.
 */
import { readFileSync } from "node:fs";
import { goto, type HandlerDef, type Step, stay, stepHandler } from "../fsm/engine.js";
import { activeHandler } from "./active.js";
import type { PmonProcess } from "./process.js";

const SEC = 1000;
/** How long a restarted process may take to show a live pid (or pass its status check). */
const START_WAIT_MS = 10 * SEC;
/** How often a process in IGNORE is looked at again (it may have been started by hand). */
const IGNORE_POLL_MS = SEC;

/** Take the pid from the pidfile (processes pmond did not start itself). */
export function refreshPid(p: PmonProcess): void {
  if (p.child || !p.conf.pidfile) return;
  try {
    const pid = Number.parseInt(readFileSync(p.conf.pidfile, "utf8").trim(), 10);
    p.pid = Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    p.pid = undefined;
  }
}

function alive(p: PmonProcess): boolean {
  if (p.alive()) return true;
  const before = p.pid;
  refreshPid(p);
  return p.pid !== before && p.alive();
}

/** Raise the process alarm at its severity once (and mark the quorum failed for quorum processes). */
function assertFailure(p: PmonProcess): void {
  if (p.conf.quorum) p.quorumFailed = true;
  if (p.alarm) return;
  p.alarm = p.conf.severity;
  p.lastRefreshAt = p.now();
  p.ctx.log.error({ process: p.name, severity: p.alarm, failures: p.failures, reason: p.reason }, "process failure asserted");
  p.ctx.event(p, p.conf.severity, p.reason);
}

function manage(p: PmonProcess): Step {
  p.failures++;
  p.debouncing = false;
  p.ctx.log.warn({ process: p.name, failures: p.failures, restarts: p.conf.restarts, reason: p.reason }, "process failed");
  if (p.conf.restarts === 0) {
    assertFailure(p);
    return goto("IGNORE");
  }
  if (p.failures === 1) p.ctx.event(p, "log", p.reason);
  if (p.failures > p.conf.restarts) assertFailure(p);
  return p.now() - p.lastRestartAt >= p.conf.interval * SEC ? goto("RESPAWN") : goto("TIMER_WAIT");
}

function debounced(p: PmonProcess): void {
  p.debouncing = false;
  p.failures = 0;
  p.quorumFailed = false;
  if (p.alarm) {
    p.ctx.log.info({ process: p.name }, "process recovered: alarm cleared");
    p.alarm = undefined;
    p.ctx.event(p, "clear");
  }
  p.reason = undefined;
}

/** Start a status check in the background when one is due; its failure text lands in statusFailure. */
function statusCheck(p: PmonProcess): void {
  if (p.statusBusy || p.now() < p.statusDueAt) return;
  p.statusBusy = true;
  p.statusDueAt = p.now() + p.conf.period * SEC;
  void p.ctx.status(p).then((r) => {
    p.statusBusy = false;
    p.statusFresh = true;
    p.statusFailure = r.ok ? undefined : r.reason;
  });
}

export const passiveHandler: HandlerDef<PmonProcess> = {
  name: "pmon-passive",
  description: "pmond process monitoring: death detection (or status checks), restart/debounce/severity/quorum policy",
  stages: [
    {
      name: "POLLING",
      next: [["START", "goenabled + start_delay (and AIO last-config) passed"]],
      run: (p) => (p.ctx.monitoringAllowed(p) ? goto("START") : stay),
    },
    {
      name: "START",
      next: [
        ["MONITOR", "running"],
        ["MANAGE", "not running"],
      ],
      run: async (p) => {
        p.amon.run = undefined;
        if (p.conf.mode === "status") {
          const r = await p.ctx.status(p);
          p.statusDueAt = p.now() + p.conf.period * SEC;
          p.statusFresh = true;
          p.statusFailure = r.ok ? undefined : r.reason;
          if (r.ok) return goto("MONITOR");
          p.reason = r.reason;
          return goto("MANAGE");
        }
        refreshPid(p);
        if (p.alive()) return goto("MONITOR");
        p.reason = "not running when monitoring started";
        return goto("MANAGE");
      },
    },
    {
      name: "MANAGE",
      next: [
        ["RESPAWN", "restart now"],
        ["TIMER_WAIT", "restart after interval"],
        ["IGNORE", "restarts=0: alarm and stop"],
      ],
      run: manage,
    },
    {
      name: "TIMER_WAIT",
      next: [["RESPAWN", "interval elapsed"]],
      run: (p) => (p.now() - p.lastRestartAt >= p.conf.interval * SEC ? goto("RESPAWN") : stay),
    },
    {
      name: "RESPAWN",
      next: [
        ["START_WAIT", "restart launched"],
        ["MANAGE", "restart failed"],
      ],
      run: async (p) => {
        p.lastRestartAt = p.now();
        p.restartsTotal++;
        p.ctx.log.info({ process: p.name, restart: p.restartsTotal }, "restarting process");
        const r = await p.ctx.restart(p);
        // A status-mode process must pass a check made after the restart.
        p.statusFresh = false;
        p.statusDueAt = 0;
        if (r.ok) return goto("START_WAIT");
        p.reason = r.reason;
        return goto("MANAGE");
      },
    },
    {
      name: "START_WAIT",
      next: [
        ["MONITOR_WAIT", "up"],
        ["MANAGE", "did not come up"],
      ],
      timeoutMs: () => START_WAIT_MS,
      run: (p) => {
        if (p.conf.mode === "status") {
          statusCheck(p);
          return p.statusFresh && !p.statusFailure ? goto("MONITOR_WAIT") : stay;
        }
        refreshPid(p);
        return p.alive() ? goto("MONITOR_WAIT") : stay;
      },
      onTimeout: (p) => {
        p.reason = p.conf.mode === "status" ? (p.statusFailure ?? "status check did not pass after a restart") : "did not start";
        return goto("MANAGE");
      },
    },
    {
      name: "MONITOR_WAIT",
      next: [
        ["MONITOR", "startuptime elapsed"],
        ["MANAGE", "died during startup"],
      ],
      run: (p) => {
        if (p.conf.mode !== "status" && !alive(p)) {
          p.reason = "exited during startup";
          return goto("MANAGE");
        }
        if (p.now() - (p.run?.enteredAt ?? 0) < p.conf.startuptime * SEC) return stay;
        p.debouncing = true;
        p.amon.run = undefined;
        return goto("MONITOR");
      },
    },
    {
      name: "MONITOR",
      next: [["MANAGE", "died, status failed or active monitor failed"]],
      run: (p) => {
        if (p.conf.mode === "status") {
          statusCheck(p);
          if (p.statusFailure) {
            p.reason = p.statusFailure;
            return goto("MANAGE");
          }
        } else if (!alive(p)) {
          p.reason = p.pid === undefined ? "no pid (pidfile missing)" : `pid ${p.pid} exited`;
          return goto("MANAGE");
        } else if (p.conf.mode === "active" && stepHandler(p, activeHandler, p.amon) && p.amon.run?.result === "fail") {
          p.reason = `no answer to ${p.amonMisses} active-monitor pulses`;
          if (p.pid !== undefined) {
            try {
              // A hung (or stopped) process is killed before it is restarted.
              process.kill(p.pid, "SIGKILL");
            } catch {
              // already gone
            }
          }
          return goto("MANAGE");
        }
        if (p.debouncing && p.now() - (p.run?.enteredAt ?? 0) >= p.conf.debounce * SEC) debounced(p);
        return stay;
      },
    },
    {
      name: "IGNORE",
      next: [["MONITOR_WAIT", "came back (started by hand)"]],
      run: (p) => {
        if (p.conf.mode === "status") {
          statusCheck(p);
          return p.statusFresh && !p.statusFailure ? goto("MONITOR_WAIT") : stay;
        }
        if (p.now() < p.statusDueAt) return stay;
        p.statusDueAt = p.now() + IGNORE_POLL_MS;
        return alive(p) ? goto("MONITOR_WAIT") : stay;
      },
    },
  ],
};
