import { DegradeMask } from "../inventory/host.js";
import { clearHeartbeatFaults, forceFullEnable, postEnabled, SEC, smNotify, Timers } from "./common.js";
import { done, END, goto, type HandlerDef, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { MtcFlag } from "./host-context.js";
import { powerOnFirstStages } from "./power-on-first.js";
import { goenabledStages, startHeartbeat } from "./stages.js";

/**
 * Graceful recovery (reference §2.6, behaviour 9): after a heartbeat loss (or MNFA exit) find out whether the host
 * really went away. If it did not reboot it stays in service; otherwise one reboot, one BMC reset after
 * `bmc_reset_delay` (skipped in DOR, cancelled when the host answers), wait for the boot, compare uptimes
 * (never let a VM run twice), goenabled, heartbeat soak. Anything odd → full enable.
 */
function fullEnable(c: HostCtx, reason: string) {
  forceFullEnable(c, reason);
  return done("fail");
}

/** SETUP for a host that is on (or whose power is unknown): one reboot request, a BMC reset after the delay (not in DOR). */
function rebootOnce(c: HostCtx) {
  if (c.env.dorActive()) return goto("MTCALIVE_TIMER");
  c.launch("rec.reboot", () => c.env.messaging.command(c.name, "reboot", { network: "all", timeoutMs: c.cfg.timeouts.cmdResponse * SEC }));
  return c.bmc()?.power ? goto("RESET_SEND_WAIT") : goto("MTCALIVE_TIMER");
}

export const recoveryHandler: HandlerDef<HostCtx> = {
  name: "recovery",
  description: "graceful recovery after heartbeat loss or MNFA exit",
  stages: [
    {
      name: "START",
      run: (c) => {
        if (c.cfg.heartbeat.failureAction !== "fail") {
          c.setAction("none");
          return done("pass");
        }
        c.gateOpen = true;
        c.env.heartbeat.stopHost(c.name);
        clearHeartbeatFaults(c);
        if (++c.gracefulRecoveryCounter > Timers.maxFastEnables) return fullEnable(c, "too many fast recoveries");
        c.setTask(c.gracefulRecoveryCounter > 1 ? "Graceful Recovery Retry" : "Graceful Recovery");
        return goto("RETRY_WAIT");
      },
      next: [["RETRY_WAIT"], [END, "not failure action 'fail' / full enable"]],
    },
    {
      name: "RETRY_WAIT",
      timeoutMs: () => 2 * SEC,
      run: () => stay,
      onTimeout: () => goto("REQ_MTCALIVE"),
      next: [["REQ_MTCALIVE"]],
    },
    {
      name: "REQ_MTCALIVE",
      run: (c) => {
        c.vars.savedUptime = c.alive?.uptime ?? c.rec.uptime;
        c.vars.from = c.now();
        c.offline.active = true;
        c.offline.count = 0;
        c.send("reqMtcAlive", { network: "mgmt", expectAck: false });
        return goto("REQ_MTCALIVE_WAIT");
      },
      next: [["REQ_MTCALIVE_WAIT"]],
    },
    {
      name: "REQ_MTCALIVE_WAIT",
      timeoutMs: (c) => c.cfg.timeouts.locRecovery * SEC,
      run: (c) => {
        const a = c.aliveSince(c.vars.from as number);
        if (!a) return stay;
        if (!(a.flags & MtcFlag.Configured) || a.flags & MtcFlag.NotHealthy) {
          c.raise({ id: "200.011", severity: "critical", text: `${c.name} configuration failure` });
          return fullEnable(c, "configuration failure");
        }
        if (c.mnfaGracefulRecovery || a.uptime * SEC > Timers.uptimeFresh) {
          // The host never went away: keep its services, just re-soak the heartbeat.
          c.env.log.info({ host: c.name, uptime: a.uptime }, "host did not reset; recovering without disturbing services");
          return goto("HEARTBEAT_START");
        }
        c.raise({ id: "200.004", severity: "critical", text: `${c.name} has reset; re-enabling` });
        c.setState({ avail: "intest" });
        return goto("GOENABLED_TIMER");
      },
      onTimeout: (c) => {
        // Loss of communication.
        c.setState({ oper: "disabled", avail: c.rec.availability === "power-off" ? "power-off" : "failed" });
        c.setSubf("disabled", "failed");
        c.raise({ id: "200.004", severity: "critical", text: `${c.name} lost communication; graceful recovery` });
        smNotify(c, "disabled");
        return goto("SETUP");
      },
      next: [
        ["HEARTBEAT_START", "did not reset"],
        ["GOENABLED_TIMER", "host has reset"],
        ["SETUP", "loss of communication"],
        [END, "config failure: full enable"],
      ],
    },
    {
      name: "SETUP",
      run: (c) => {
        c.setTask("Graceful Recovery Wait");
        c.rebootAckAt = 0;
        c.vars.setupAt = c.now();
        // With a BMC, its power state decides (POWER_QUERY): an off host is powered on, not rebooted.
        if (c.bmc()?.power) return goto("POWER_STATUS");
        return rebootOnce(c);
      },
      next: [
        ["POWER_STATUS", "BMC: power state first"],
        ["MTCALIVE_TIMER", "no BMC"],
      ],
    },
    ...powerOnFirstStages({
      on: rebootOnce,
      poweredOn: (c) => {
        c.setTask("Graceful Recovery Wait");
        return goto("MTCALIVE_TIMER");
      },
      next: [
        ["RESET_SEND_WAIT", "on: one reboot, BMC reset after bmc_reset_delay"],
        ["MTCALIVE_TIMER", "powered on / DOR"],
      ],
    }),
    {
      name: "RESET_SEND_WAIT",
      timeoutMs: (c) => c.cfg.timeouts.bmcResetDelay * SEC,
      run: (c) => {
        // Cancelled by any reboot ACK or a mgmt mtcAlive.
        const ack = c.outcome("rec.reboot");
        if (ack?.state === "ok" || (c.aliveAt.get("mgmt") ?? 0) > (c.vars.setupAt as number)) return goto("MTCALIVE_TIMER");
        return stay;
      },
      onTimeout: (c) => {
        const bmc = c.bmc();
        c.launch("rec.reset", async () => bmc?.power?.set("reset"));
        return goto("RESET_RECV_WAIT");
      },
      next: [
        ["RESET_RECV_WAIT", "bmc_reset_delay"],
        ["MTCALIVE_TIMER", "reboot ACK / mtcAlive: reset cancelled"],
      ],
    },
    {
      name: "RESET_RECV_WAIT",
      timeoutMs: () => 10 * SEC,
      run: (c) => {
        const o = c.outcome("rec.reset");
        if (o?.state === "fail") c.env.log.warn({ host: c.name, err: o.error }, "graceful recovery BMC reset failed");
        return o && o.state !== "pending" ? goto("MTCALIVE_TIMER") : stay;
      },
      onTimeout: () => goto("MTCALIVE_TIMER"),
      next: [["MTCALIVE_TIMER"]],
    },
    {
      name: "MTCALIVE_TIMER",
      run: (c) => {
        c.vars.from = c.now();
        return goto("MTCALIVE_WAIT");
      },
      next: [["MTCALIVE_WAIT"]],
    },
    {
      name: "MTCALIVE_WAIT",
      timeoutMs: (c) => c.bootTimeoutMs(),
      run: (c) => {
        const a = c.aliveSince(c.vars.from as number);
        if (!a) return stay;
        const saved = c.vars.savedUptime as number;
        if (a.uptime >= saved || (saved === 0 && a.uptime * SEC > 20 * 60 * SEC)) return fullEnable(c, "host did not reboot (avoid duplicate VMs)");
        if (!(a.flags & MtcFlag.Configured) || a.flags & MtcFlag.NotHealthy) return fullEnable(c, "configuration failure");
        c.offline.active = false;
        c.setState({ avail: "intest" });
        return goto("GOENABLED_TIMER");
      },
      onTimeout: (c) => {
        c.setTask("Graceful Recovery Failed");
        return fullEnable(c, "graceful recovery boot timeout");
      },
      next: [
        ["GOENABLED_TIMER", "host rebooted"],
        [END, "no reboot / config / timeout: full enable"],
      ],
    },
    ...goenabledStages({
      subf: false,
      passed: () => goto("HEARTBEAT_START"),
      failed: (c, why) => fullEnable(c, `goenabled ${why}`),
      next: [
        ["HEARTBEAT_START", "passed"],
        [END, "failed / timeout: full enable"],
      ],
    }),
    {
      name: "HEARTBEAT_START",
      timeoutMs: () => Timers.heartbeatReadyWait,
      run: (c) => {
        if (!c.hbsClientReady) return stay;
        startHeartbeat(c);
        return goto("HEARTBEAT_SOAK");
      },
      onTimeout: (c) => {
        startHeartbeat(c);
        return goto("HEARTBEAT_SOAK");
      },
      next: [["HEARTBEAT_SOAK"]],
    },
    {
      name: "HEARTBEAT_SOAK",
      timeoutMs: (c) => c.cfg.timeouts.heartbeatSoak * SEC,
      run: (c) => (c.heartbeatLoss ? fullEnable(c, "heartbeat loss during recovery soak") : stay),
      onTimeout: () => goto("STATE_CHANGE"),
      next: [
        ["STATE_CHANGE", "soak passed"],
        [END, "loss: full enable"],
      ],
    },
    {
      name: "STATE_CHANGE",
      run: (c) => {
        c.setTask("");
        c.rec.degradeMask &= ~DegradeMask.Enable;
        postEnabled(c);
        c.setSubf("enabled", "available");
        return goto("ENABLE");
      },
      next: [["ENABLE"]],
    },
    {
      name: "ENABLE",
      run: (c) => {
        smNotify(c, "enabled");
        c.gracefulRecoveryCounter = 0;
        c.mnfaGracefulRecovery = false;
        c.clearAlarm("200.004");
        c.setAction("none");
        return done("pass");
      },
      next: [[END, "recovered"]],
    },
  ],
};
