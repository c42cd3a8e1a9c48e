import { powerSet, powerStatus } from "./bmc-power.js";
import { bump, holdThenClearTask, SEC } from "./common.js";
import { done, END, goto, type HandlerDef, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { finishStage, powerStatusStages } from "./stages.js";

/**
 * Power on / off (reference §2.11): status query first (already there → done, nothing sent), request,
 * wait, verify. 5 action retries; 30 s between tries (5 s for power-on) and 30 s while the BMC is inaccessible.
 */
const RETRIES = 5;
const want = (c: HostCtx) => (c.action === "power-on" ? "on" : "off");
const label = (c: HostCtx) => ((c.vars.target ?? want(c)) === "on" ? "Power-On" : "Power-Off");

export const powerHandler: HandlerDef<HostCtx> = {
  name: "power",
  description: "power on / power off a locked host through its BMC",
  stages: [
    {
      name: "START",
      run: (c) => {
        c.env.alarms.log("200.021", c.name, `${c.name} manual ${c.action}`);
        c.vars.target = want(c);
        c.vars.tries = 0;
        if (!c.bmc()?.power) {
          c.setTask(`${label(c)} Failed - BMC is not provisioned`);
          return goto("FAIL");
        }
        c.setTask(want(c) === "on" ? "Powering On" : "Powering Off");
        return goto("POWER_STATUS");
      },
      next: [["POWER_STATUS"], ["FAIL", "BMC not provisioned"]],
    },
    ...powerStatusStages({
      decide: (c, state) => (state === c.vars.target ? goto("DONE") : goto("REQ_SEND")),
      unreachable: "RETRY",
      next: [["DONE", "already in the target state"], ["REQ_SEND"], ["RETRY", "BMC error"]],
    }),
    {
      name: "REQ_SEND",
      run: (c) => {
        c.launch("set", () => powerSet(c, c.vars.target as "on" | "off"));
        return goto("RESP_WAIT");
      },
      next: [["RESP_WAIT"]],
    },
    {
      name: "RESP_WAIT",
      // MTC_POWER_ACTION_QUERY_WAIT (on) / the power-off settle time before the verify.
      timeoutMs: (c) => (c.vars.target === "on" ? 30 : 10) * SEC,
      run: (c) => (c.outcome("set")?.state === "fail" ? goto("RETRY") : stay),
      onTimeout: (c) => {
        if (c.outcome("set")?.state === "ok") return goto("VERIFY");
        c.bmcAccessible = false;
        return goto("RETRY");
      },
      next: [["VERIFY"], ["RETRY", "request failed"]],
    },
    {
      name: "VERIFY",
      run: (c) => {
        c.launch("verify", () => powerStatus(c));
        return goto("VERIFY_WAIT");
      },
      next: [["VERIFY_WAIT"]],
    },
    {
      name: "VERIFY_WAIT",
      timeoutMs: () => 10 * SEC,
      run: (c) => {
        const o = c.outcome<string>("verify");
        if (!o || o.state === "pending") return stay;
        return o.state === "ok" && o.value === c.vars.target ? goto("DONE") : goto("RETRY");
      },
      onTimeout: () => goto("RETRY"),
      next: [
        ["DONE", "verified"],
        ["RETRY", "not yet"],
      ],
    },
    {
      name: "RETRY",
      timeoutMs: (c) => (!c.bmcAccessible ? 30 : c.vars.target === "on" ? 5 : c.cfg.maintenance.powerOffRetryWait) * SEC,
      run: (c) => {
        if (c.vars.counted) return stay;
        c.vars.counted = true;
        const tries = bump(c, "tries");
        if (tries >= RETRIES) {
          c.setTask(`${label(c)} Failed${c.bmcAccessible ? "" : " - BMC not accessible"}`);
          return goto("FAIL");
        }
        return stay;
      },
      onTimeout: (c) => {
        c.vars.counted = false;
        return goto("POWER_STATUS");
      },
      next: [
        ["POWER_STATUS", "retry"],
        ["FAIL", "5 tries"],
      ],
    },
    {
      name: "DONE",
      run: (c) => {
        if (c.vars.target === "off") {
          c.setState({ oper: "disabled", avail: "power-off" });
          c.offline.active = false;
        } else {
          c.setState({ avail: "offline" });
          c.powerOnAt = c.now();
        }
        c.setAction("none");
        holdThenClearTask(c, `${label(c)} Completed`);
        return done("pass");
      },
      next: [[END]],
    },
    finishStage("FAIL"),
  ],
};
