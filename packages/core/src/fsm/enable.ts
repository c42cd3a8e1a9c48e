import { DegradeMask } from "../inventory/host.js";
import { arEnable, arManage, bump, clearHeartbeatFaults, enableFailure, postEnabled, SEC, smNotify, Timers } from "./common.js";
import { done, END, goto, type HandlerDef, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { MtcFlag } from "./host-context.js";
import { powerOnFirstStages } from "./power-on-first.js";
import { beginResetProgression, stepResetProgression } from "./reset-progression.js";
import { goenabledStages, startHeartbeat } from "./stages.js";

/**
 * Enable / unlock (reference §2.4, behaviour 4): reset progression → mtcAlive wait (boot timeout) →
 * config/LUKS/uptime checks → UNLOCKED + goenabled → heartbeat ready + 11 s soak → enabled. Any failure →
 * FAILURE (critical enable alarm, disabled-failed, cause-specific auto-recovery interval), with the
 * active-controller exceptions of behaviour 6. Self-unlock is the lazy reboot of SELF_UNLOCK.
 */
const PURGE_PASSES = 20;

export const enableHandler: HandlerDef<HostCtx> = {
  name: "enable",
  description: "unlock / enable a host; also the full re-enable after a failure",
  stages: [
    {
      name: "START",
      run: (c) => {
        if (c.arDisabled) {
          if (c.action !== "unlock") return done("fail");
          // An unlock is the operator's way to retry (ar_enable).
          arEnable(c);
        }
        if (c.action === "unlock") {
          c.clearAlarm("200.001");
          c.env.alarms.log("200.021", c.name, `${c.name} unlock`);
          if (c.isSelf) return goto("SELF_UNLOCK");
        }
        c.rec.degradeMask &= DegradeMask.Hwmon;
        clearHeartbeatFaults(c);
        c.gateOpen = false;
        const a = c.rec.availability;
        let avail = a;
        if (a === "intest" || a === "failed" || a === "degraded" || a === "available") {
          if (!(c.isSelf && !c.inServicePeerController())) {
            avail = "failed";
            c.raise({ id: "200.004", severity: "critical", text: `${c.name} is being re-enabled` });
          }
        } else if (a === "offduty") avail = "online";
        else if (a === "not-installed") avail = "offline";
        if (c.rec.administrative === "locked") c.setState({ admin: "unlocked" });
        c.setState({ oper: "disabled", avail: avail as "failed" });
        c.setTask("Enabling");
        // The controller this agent runs on is not reset by itself: open the gate and go straight to its tests.
        if (c.isSelf) return goto("INTEST_START");
        smNotify(c, "disabled");
        return goto("HEARTBEAT_STOP_CMD");
      },
      next: [["HEARTBEAT_STOP_CMD"], ["SELF_UNLOCK", "self unlock"], ["INTEST_START", "self (no reset)"], [END, "auto-recovery disabled"]],
    },
    {
      name: "SELF_UNLOCK",
      run: (c) => {
        // The active controller cannot watch its own reboot: remove the persistent lock, post
        // unlocked-disabled-offline and lazily reboot; the restarted mtcAgent's add handler takes over.
        c.setState({ admin: "unlocked", oper: "disabled", avail: "offline" });
        c.setTask("Unlocking, please stand-by while the system gracefully reboots");
        c.send("unlocked", { expectAck: false });
        c.send("lazyReboot", { parms: [c.cfg.timeouts.lazyReboot], expectAck: false });
        return goto("SELF_UNLOCK_WAIT");
      },
      next: [["SELF_UNLOCK_WAIT", "lazy reboot issued"]],
    },
    {
      name: "SELF_UNLOCK_WAIT",
      // This agent goes down with the reboot; if it is still here after the lazy delay and the failsafe, try again.
      timeoutMs: (c) => (c.cfg.timeouts.lazyReboot + c.cfg.timeouts.failsafeShutdown) * SEC,
      run: () => stay,
      onTimeout: (c) => {
        c.send("lazyReboot", { parms: [c.cfg.timeouts.lazyReboot], expectAck: false });
        return goto("SELF_UNLOCK_WAIT");
      },
      next: [["SELF_UNLOCK_WAIT", "still up: lazy reboot again"]],
    },
    {
      name: "HEARTBEAT_STOP_CMD",
      run: (c) => {
        c.env.heartbeat.stopHost(c.name);
        c.heartbeatMinor.clear();
        if (c.powerOnAt && c.now() - c.powerOnAt < Timers.powerOnSkipResetMs) {
          c.setTask("Booting");
          return goto("INTEST_START");
        }
        // A powered-off host answers no reboot: ask its BMC first and power it on at once.
        if (c.bmc()?.power) return goto("POWER_STATUS");
        return toResetProgression(c);
      },
      next: [["RESET_PROGRESSION"], ["INTEST_START", "powered on < 2 min ago"], ["POWER_STATUS", "BMC: power state first"]],
    },
    ...powerOnFirstStages({
      on: toResetProgression,
      poweredOn: () => goto("INTEST_START"),
      next: [
        ["RESET_PROGRESSION", "powered on"],
        ["INTEST_START", "powered on just now"],
      ],
    }),
    {
      name: "RESET_PROGRESSION",
      run: (c) => {
        const r = stepResetProgression(c);
        if (r === undefined) return stay;
        if (r === "fail") return goto("RECOVERY_TIMER");
        c.setTask("Booting");
        return goto("INTEST_START");
      },
      next: [
        ["INTEST_START", "host reset"],
        ["RECOVERY_TIMER", "progression failed"],
      ],
    },
    {
      name: "RECOVERY_TIMER",
      timeoutMs: () => Timers.recoveryTimeout,
      run: () => stay,
      onTimeout: (c) => {
        beginResetProgression(c, 0, true);
        return goto("RESET_PROGRESSION");
      },
      next: [["RESET_PROGRESSION", "MTC_RECOVERY_TIMEOUT"]],
    },
    {
      name: "INTEST_START",
      run: (c) => {
        c.rec.uptime = 0;
        c.vars.purge = 0;
        c.gateOpen = false;
        return goto("MTCALIVE_PURGE");
      },
      next: [["MTCALIVE_PURGE"]],
    },
    {
      name: "MTCALIVE_PURGE",
      run: (c) => {
        // Discard mtcAlives that were in flight from before the reset, then open the gate.
        if (bump(c, "purge") < PURGE_PASSES) return stay;
        c.alive = undefined;
        c.gateOpen = true;
        c.vars.aliveWaitFrom = c.now();
        return goto("MTCALIVE_WAIT");
      },
      next: [["MTCALIVE_WAIT"]],
    },
    {
      name: "MTCALIVE_WAIT",
      timeoutMs: (c) => c.bootTimeoutMs(),
      run: (c) => {
        const a = c.aliveSince(c.vars.aliveWaitFrom as number);
        if (!a) return stay;
        c.offline.active = false;
        if (a.flags & MtcFlag.LuksVolFailed) {
          c.raise({ id: "200.016", severity: "critical", text: `${c.name} LUKS volume failure` });
          return enableFailure(c, "luks", "LUKS volume failure, re-enabling");
        }
        if (!(a.flags & MtcFlag.Configured) || a.flags & MtcFlag.NotHealthy) {
          c.raise({ id: "200.011", severity: "critical", text: `${c.name} experienced a configuration failure` });
          c.rec.degradeMask |= DegradeMask.Config;
          return enableFailure(c, "config", "Configuration Failed, re-enabling");
        }
        if (!c.isSelf && a.uptime * SEC > 2 * c.bootTimeoutMs()) return enableFailure(c, undefined, "Reboot failed; host did not reboot");
        if (c.isController && a.flags & MtcFlag.SmUnhealthy) return enableFailure(c, undefined, "Service Manager unhealthy");
        c.rec.uptime = a.uptime;
        c.send("unlocked", { network: "mgmt", expectAck: false });
        c.goenabled = undefined;
        c.setState({ avail: "intest" });
        c.setTask("Testing");
        return goto("GOENABLED_TIMER");
      },
      onTimeout: (c) => {
        c.raise({ id: "200.004", severity: "critical", text: `${c.name} boot timeout` });
        c.setState({ avail: "failed" });
        c.setTask("Boot Failed, rebooting");
        // Keep the failure visible while the host is reset again.
        beginResetProgression(c, 0, false);
        return goto("RESET_PROGRESSION");
      },
      next: [
        ["GOENABLED_TIMER", "mtcAlive"],
        ["FAILURE", "config / LUKS / no reboot / SM unhealthy"],
        ["RESET_PROGRESSION", "boot timeout"],
      ],
    },
    ...goenabledStages({
      subf: false,
      unhealthy: (c) => Boolean(c.alive && c.alive.at >= (c.vars.goenabledFrom as number) && c.alive.flags & MtcFlag.NotHealthy),
      passed: (c) => {
        c.setTask("Initializing");
        if (c.isSelf || c.isAio || c.cfg.heartbeat.failureAction === "none") return goto("STATE_CHANGE");
        return goto("HEARTBEAT_WAIT");
      },
      failed: (c, why) => enableFailure(c, "goenable", why === "timeout" ? "In-Test Timeout, re-enabling" : "In-Test Failed, re-enabling"),
      next: [
        ["HEARTBEAT_WAIT", "goenabled passed"],
        ["STATE_CHANGE", "self / AIO / no heartbeat soak"],
        ["FAILURE", "goenabled failed or timeout"],
      ],
    }),
    {
      name: "HEARTBEAT_WAIT",
      timeoutMs: () => Timers.heartbeatReadyWait,
      run: (c) => (c.hbsClientReady ? startSoak(c) : stay),
      onTimeout: (c) => {
        c.env.log.warn({ host: c.name }, "no hbsClient ready event; starting the heartbeat soak anyway");
        return startSoak(c);
      },
      next: [["HEARTBEAT_SOAK", "hbsClient ready"]],
    },
    {
      name: "HEARTBEAT_SOAK",
      timeoutMs: (c) => c.cfg.timeouts.heartbeatSoak * SEC,
      run: (c) => (c.heartbeatLoss ? enableFailure(c, "heartbeat", "Enable Heartbeat Failure, re-enabling") : stay),
      onTimeout: (c) => (c.heartbeatLoss ? enableFailure(c, "heartbeat", "Enable Heartbeat Failure, re-enabling") : goto("STATE_CHANGE")),
      next: [
        ["STATE_CHANGE", "soak passed"],
        ["FAILURE", "heartbeat loss during soak"],
      ],
    },
    {
      name: "STATE_CHANGE",
      run: (c) => {
        c.setTask("");
        postEnabled(c);
        if (c.heartbeatLoss && !c.isSelf && !c.isAio && c.cfg.heartbeat.failureAction === "fail")
          return enableFailure(c, "heartbeat", "Enable Heartbeat Failure, re-enabling");
        smNotify(c, c.action === "unlock" ? "unlocked" : "enabled");
        return goto("ENABLED");
      },
      next: [["ENABLED"], ["FAILURE", "heartbeat failed"]],
    },
    {
      name: "ENABLED",
      run: (c) => {
        c.clearAlarm("200.004");
        c.clearAlarm("200.011");
        c.rec.degradeMask &= ~(DegradeMask.Enable | DegradeMask.Config);
        postEnabled(c);
        c.gracefulRecoveryCounter = 0;
        if (c.isAio) {
          c.setTask("Enabling Worker Service");
          c.setAction("enable-subf");
        } else {
          c.setAction("none");
        }
        arEnable(c);
        c.env.alarms.log("200.022", c.name, `${c.name} is now enabled`);
        return done("pass");
      },
      next: [[END, "enabled"]],
    },
    {
      name: "FAILURE",
      run: (c) => {
        c.env.heartbeat.stopHost(c.name);
        c.raise({ id: "200.004", severity: "critical", text: `${c.name} experienced a service-affecting failure: ${c.rec.task || "enable failed"}` });
        c.rec.degradeMask |= DegradeMask.Enable;
        const cause = c.failureCause;
        if (c.isSelf) {
          // Active-controller self-protection (behaviour 6): never fail the only controller.
          const standby = c.inServicePeerController();
          c.setState({ oper: "enabled", avail: "degraded" });
          if (standby) {
            c.setTask("Critical failure.Requesting SWACT to enabled standby controller");
            c.launch("swact", () => c.env.sm.swact(c.name));
            return goto("FAILURE_SWACT_WAIT");
          }
          if (c.cfg.system.type !== "aio-sx") c.setTask("Critical failure.Please provision/enable standby controller");
          if (c.isAio) {
            c.setSubf("disabled", "failed");
            c.raise({ id: "200.013", severity: "critical", text: `${c.name} compute subfunction failed` });
          }
          c.setAction("none");
          return done("fail");
        }
        if (cause && arManage(c, cause)) return done("fail");
        c.setState({ oper: "disabled", avail: "failed" });
        return goto("FAILURE_TIMER");
      },
      next: [
        ["FAILURE_TIMER", "wait ar interval"],
        ["FAILURE_SWACT_WAIT", "active controller with standby"],
        [END, "degrade only / auto-recovery disabled"],
      ],
    },
    {
      name: "FAILURE_TIMER",
      timeoutMs: (c) => (c.failureCause ? c.cfg.autoRecovery[c.failureCause].interval * SEC : 30 * SEC),
      run: () => stay,
      onTimeout: () => goto("START"),
      next: [["START", "ar_<cause>_interval"]],
    },
    {
      name: "FAILURE_SWACT_WAIT",
      timeoutMs: () => 30 * SEC,
      run: () => stay,
      onTimeout: (c) => {
        // Keep asking SM until the services have moved to the standby.
        c.launch("swact.query", () => c.env.sm.query(c.name));
        return goto("FAILURE_SWACT_CHECK");
      },
      next: [["FAILURE_SWACT_CHECK", "every 30 s"]],
    },
    {
      name: "FAILURE_SWACT_CHECK",
      timeoutMs: () => 10 * SEC,
      run: (c) => {
        const q = c.outcome<{ activeServices: boolean }>("swact.query");
        if (q?.state === "ok" && !q.value.activeServices) {
          c.setAction("none");
          return done("pass");
        }
        if (q?.state === "ok" || q?.state === "fail") {
          c.launch("swact", () => c.env.sm.swact(c.name));
          return goto("FAILURE_SWACT_WAIT");
        }
        return stay;
      },
      onTimeout: () => goto("FAILURE_SWACT_WAIT"),
      next: [
        ["FAILURE_SWACT_WAIT", "still active: retry"],
        [END, "services moved"],
      ],
    },
  ],
};

function toResetProgression(c: HostCtx) {
  beginResetProgression(c, 0, true);
  return goto("RESET_PROGRESSION");
}

function startSoak(c: HostCtx) {
  startHeartbeat(c);
  return goto("HEARTBEAT_SOAK");
}
