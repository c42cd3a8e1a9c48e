import { powerSet } from "./bmc-power.js";
import { SEC, Timers } from "./common.js";
import { goto, type HandlerDef, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { finishStage, powerStatusStages } from "./stages.js";

/**
 * Admin reset through the BMC (reference §2.10): query power, BMC reset, wait for offline; 10 outer retries
 * 10 s apart (30 s while the BMC is not accessible).
 */
const RETRIES = 10;

export const resetHandler: HandlerDef<HostCtx> = {
  name: "reset",
  description: "admin reset of a locked host through its BMC",
  stages: [
    {
      name: "START",
      run: (c) => {
        c.env.alarms.log("200.021", c.name, `${c.name} manual reset`);
        c.vars.tries = 0;
        if (!c.bmc()?.power) {
          c.setTask("Reset Failed - BMC is not provisioned");
          return goto("FAIL");
        }
        c.setTask("Reset Request");
        return goto("POWER_STATUS");
      },
      next: [["POWER_STATUS"], ["FAIL", "BMC not provisioned"]],
    },
    ...powerStatusStages({
      decide: (c, state) => {
        if (state === "on") return goto("REQ_SEND");
        c.setState({ avail: "power-off" });
        c.setTask(`Reset Failed - ${c.name} is powered off`);
        return goto("FAIL");
      },
      unreachable: "QUEUE",
      next: [
        ["REQ_SEND", "power on"],
        ["FAIL", "powered off"],
        ["QUEUE", "BMC not accessible"],
      ],
    }),
    {
      name: "REQ_SEND",
      run: (c) => {
        c.launch("reset", () => powerSet(c, "reset"));
        return goto("RESP_WAIT");
      },
      next: [["RESP_WAIT"]],
    },
    {
      name: "RESP_WAIT",
      timeoutMs: () => 10 * SEC,
      run: (c) => {
        const o = c.outcome("reset");
        if (!o || o.state === "pending") return stay;
        if (o.state === "fail") return goto("QUEUE");
        c.setTask("Resetting");
        c.offline.active = true;
        c.offline.count = 0;
        return goto("OFFLINE_WAIT");
      },
      onTimeout: () => goto("QUEUE"),
      next: [
        ["OFFLINE_WAIT", "reset accepted"],
        ["QUEUE", "failed: retry"],
      ],
    },
    {
      name: "QUEUE",
      timeoutMs: (c) => (c.bmcAccessible ? 10 : 30) * SEC,
      run: (c) => {
        const tries = (c.vars.tries as number) + 1;
        c.vars.tries = tries;
        if (tries > RETRIES) {
          c.setTask("Reset Failed - BMC not accessible");
          return goto("FAIL");
        }
        if (!c.bmcAccessible) c.setTask(`Reset Failed - BMC not accessible, retry ${tries} of ${RETRIES}`);
        return goto("RETRY_WAIT");
      },
      onTimeout: () => goto("RETRY_WAIT"),
      next: [["RETRY_WAIT"], ["FAIL", "retries exhausted"]],
    },
    {
      name: "RETRY_WAIT",
      timeoutMs: (c) => (c.bmcAccessible ? 10 : 30) * SEC,
      run: () => stay,
      onTimeout: () => goto("POWER_STATUS"),
      next: [["POWER_STATUS", "retry"]],
    },
    {
      name: "OFFLINE_WAIT",
      timeoutMs: () => Timers.resetToOffline,
      run: (c) => (c.rec.availability === "offline" ? goto("DONE") : stay),
      onTimeout: () => goto("QUEUE"),
      next: [
        ["DONE", "offline"],
        ["QUEUE", "MTC_RESET_TO_OFFLINE_TIMEOUT"],
      ],
    },
    finishStage("DONE", () => "Reset Completed"),
    finishStage("FAIL", (c) => c.rec.task || "Reset Failed"),
  ],
};
