import { DegradeMask } from "../inventory/host.js";
import { arManage, forceFullEnable, SEC, smNotify, Timers } from "./common.js";
import { done, END, goto, type HandlerDef, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { MtcFlag } from "./host-context.js";
import { goenabledStages } from "./stages.js";

/**
 * AIO subfunction enable (reference §2.16): after the main enable of an AIO controller, wait for the worker
 * configuration, run the subfunction goenabled tests, soak the heartbeat, and enable the subfunction.
 * A failure leaves main enabled-degraded with 200.013 and then forces a full enable.
 */
function subfFailed(c: HostCtx, alarm: "200.011" | "200.013", task: string, cause: "config" | "goenable") {
  c.raise({ id: alarm, severity: "critical", text: `${c.name} ${task}` });
  if (alarm === "200.013") c.rec.degradeMask |= DegradeMask.Subf;
  else c.rec.degradeMask |= DegradeMask.Config;
  c.setTask(task);
  c.vars.cause = cause;
  return goto("SUBF_FAILED");
}

export const subfEnableHandler: HandlerDef<HostCtx> = {
  name: "enable-subf",
  description: "enable the worker subfunction of an AIO controller",
  stages: [
    {
      name: "START",
      timeoutMs: () => Timers.workerConfigTimeout,
      run: (c) => {
        const a = c.alive;
        if (!a || !(a.flags & MtcFlag.SubfConfigured)) return stay;
        return goto("GOENABLED_TIMER");
      },
      onTimeout: (c) => subfFailed(c, "200.011", "Worker Configuration Timeout, re-enabling", "config"),
      next: [
        ["GOENABLED_TIMER", "worker configured"],
        ["SUBF_FAILED", "MTC_WORKER_CONFIG_TIMEOUT"],
      ],
    },
    ...goenabledStages({
      subf: true,
      passed: () => goto("HEARTBEAT_SOAK"),
      failed: (c, why) => subfFailed(c, "200.013", `Worker In-Test ${why === "timeout" ? "Timeout" : "Failed"}, re-enabling`, "goenable"),
      next: [
        ["HEARTBEAT_SOAK", "passed"],
        ["SUBF_FAILED", "failed / timeout"],
      ],
    }),
    {
      name: "HEARTBEAT_SOAK",
      timeoutMs: (c) => (c.isSelf || c.cfg.heartbeat.failureAction === "none" ? 0 : c.cfg.timeouts.heartbeatSoak * SEC),
      run: (c) => (c.heartbeatLoss && !c.isSelf ? subfFailed(c, "200.013", "Worker Heartbeat Failure, re-enabling", "goenable") : stay),
      onTimeout: () => goto("STATE_CHANGE"),
      next: [
        ["STATE_CHANGE", "soak passed"],
        ["SUBF_FAILED", "heartbeat loss"],
      ],
    },
    {
      name: "STATE_CHANGE",
      run: (c) => {
        c.setSubf("enabled", "available");
        c.clearAlarm("200.013");
        c.rec.degradeMask &= ~DegradeMask.Subf;
        c.setState({ oper: "enabled", avail: c.rec.degradeMask ? "degraded" : "available" });
        c.setTask("");
        c.setAction("none");
        // The SM notification deferred from the main enable.
        smNotify(c, "enabled");
        return done("pass");
      },
      next: [[END, "enabled"]],
    },
    {
      name: "SUBF_FAILED",
      // A short settle (the work-queue wait of the original) before the full enable.
      timeoutMs: () => 10 * SEC,
      run: (c) => {
        if (c.vars.posted) return stay;
        c.vars.posted = true;
        c.setSubf("disabled", "failed");
        c.setState({ oper: "enabled", avail: "degraded" });
        return stay;
      },
      onTimeout: (c) => {
        if (arManage(c, c.vars.cause as "config" | "goenable")) return done("fail");
        if (c.isSelf) {
          // Self-protection: the active controller stays enabled-degraded.
          c.setAction("none");
          return done("fail");
        }
        forceFullEnable(c, "subfunction enable failed");
        return done("fail");
      },
      next: [[END, "full enable (or degraded: self)"]],
    },
  ],
};
