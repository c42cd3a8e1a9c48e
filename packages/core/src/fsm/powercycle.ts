import { powerSet } from "./bmc-power.js";
import { MIN, SEC, Timers } from "./common.js";
import { done, END, goto, type HandlerDef, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { powerStatusStages } from "./stages.js";

/**
 * Power-cycle on a critical sensor (reference §2.12): power off, cool off 5 min (with a countdown task), power on,
 * wait for the host to come back, hold off 5 min before another cycle. After 3 cycles the host is left powered
 * down. Never applied to the active controller (the event handler refuses it).
 */
const MAX_ATTEMPTS = 3;
const COOLDOWN = 5 * MIN;
const HOLDOFF = 5 * MIN;

export const powercycleHandler: HandlerDef<HostCtx> = {
  name: "powercycle",
  description: "power-cycle a host after a critical sensor event (hwmon)",
  stages: [
    {
      name: "START",
      run: (c) => {
        c.powercycleAttempts++;
        c.env.alarms.log("200.021", c.name, `${c.name} auto power-cycle ${c.powercycleAttempts}`);
        return c.powercycleAttempts > MAX_ATTEMPTS ? goto("POWERDOWN") : goto("POWEROFF");
      },
      next: [["POWEROFF"], ["POWERDOWN", "more than 3 cycles"]],
    },
    {
      name: "POWERDOWN",
      run: (c) => {
        // The sensor stays critical across cycles: power the host down and leave it for the operator.
        c.launch("off", () => powerSet(c, "off"));
        c.heldPoweredDown = true;
        c.setState({ oper: "disabled", avail: "power-off" });
        c.setTask("Critical Event Power-Down ; due to persistent critical sensor");
        c.setAction("none");
        return done("fail");
      },
      next: [[END, "left powered down"]],
    },
    {
      name: "POWEROFF",
      run: (c) => {
        c.setTask(`Critical Event Power-Cycle ${c.powercycleAttempts}; powering off`);
        c.launch("off", () => powerSet(c, "off"));
        return goto("POWEROFF_CMND_WAIT");
      },
      next: [["POWEROFF_CMND_WAIT"]],
    },
    {
      name: "POWEROFF_CMND_WAIT",
      timeoutMs: () => 30 * SEC,
      run: (c) => {
        const o = c.outcome("off");
        if (o?.state === "fail") return goto("FAIL");
        if (o?.state !== "ok") return stay;
        c.power = "off";
        c.setState({ oper: "disabled", avail: "power-off" });
        c.vars.coolFrom = c.now();
        return goto("COOLOFF");
      },
      onTimeout: () => goto("FAIL"),
      next: [
        ["COOLOFF", "powered off"],
        ["FAIL", "BMC failed"],
      ],
    },
    {
      name: "COOLOFF",
      timeoutMs: () => COOLDOWN,
      run: (c) => {
        const left = Math.ceil((COOLDOWN - c.inStageMs()) / MIN);
        c.setTask(`Critical Event Power-Cycle ${c.powercycleAttempts}; power-on in ${left} minute${left === 1 ? "" : "s"}`);
        return stay;
      },
      onTimeout: () => goto("POWERON"),
      next: [["POWERON", "MTC_POWERCYCLE_COOLDOWN_DELAY"]],
    },
    {
      name: "POWERON",
      run: (c) => {
        c.setTask(`Critical Event Power-Cycle ${c.powercycleAttempts}; powering on`);
        c.launch("on", () => powerSet(c, "on"));
        return goto("POWERON_CMND_WAIT");
      },
      next: [["POWERON_CMND_WAIT"]],
    },
    {
      name: "POWERON_CMND_WAIT",
      timeoutMs: () => 30 * SEC,
      run: (c) => {
        const o = c.outcome("on");
        if (o?.state === "fail") return goto("FAIL");
        return o?.state === "ok" ? goto("POWER_STATUS") : stay;
      },
      onTimeout: () => goto("FAIL"),
      next: [["POWER_STATUS"], ["FAIL", "BMC failed"]],
    },
    // POWERON_VERIFY in the reference: the BMC must say "on" before the host is waited for.
    ...powerStatusStages({
      decide: (c, state) => {
        if (state !== "on") return goto("FAIL");
        c.power = "on";
        c.powerOnAt = c.now();
        c.setState({ avail: "offline" });
        c.vars.onAt = c.now();
        return goto("POWERON_WAIT");
      },
      unreachable: "FAIL",
      next: [
        ["POWERON_WAIT", "verified on"],
        ["FAIL", "still off / BMC failed"],
      ],
    }),
    {
      name: "POWERON_WAIT",
      timeoutMs: () => Timers.powerOnToOnline,
      run: (c) => (c.aliveSince(c.vars.onAt as number) ? goto("HOLDOFF") : stay),
      onTimeout: () => goto("FAIL"),
      next: [
        ["HOLDOFF", "host is back"],
        ["FAIL", "MTC_POWERON_TO_ONLINE_TIMEOUT"],
      ],
    },
    {
      name: "HOLDOFF",
      // MTC_POWERCYCLE_BACK2BACK_DELAY: the host is handed back to maintenance; another cycle waits this long.
      timeoutMs: () => HOLDOFF,
      run: (c) => {
        if (!c.vars.released) {
          c.vars.released = true;
          c.setTask("");
          if (c.locked) c.setState({ avail: "online" });
        }
        return stay;
      },
      onTimeout: () => goto("DONE"),
      next: [["DONE", "MTC_POWERCYCLE_BACK2BACK_DELAY"]],
    },
    {
      name: "DONE",
      run: (c) => {
        // An unlocked host is now disabled; the dispatcher runs the full enable next.
        c.setAction("none");
        return done("pass");
      },
      next: [[END]],
    },
    {
      name: "FAIL",
      run: (c) => {
        c.setTask(`Critical Event Power-Cycle ${c.powercycleAttempts} Failed`);
        c.setAction("none");
        return done("fail");
      },
      next: [[END]],
    },
  ],
};
