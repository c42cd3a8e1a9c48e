import { bump, holdThenClearTask, SEC } from "./common.js";
import { done, END, goto, type HandlerDef, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";

/**
 * Swact (reference §2.14) through the ServiceManager port: is the controller active? stop heartbeating the other
 * hosts (no false losses during the move), ask SM to swact, poll until the services have left this controller.
 */
const QUERY_TRIES = 10;
const pollMs = (c: HostCtx) => (Math.max(60, c.cfg.timeouts.swact) * SEC) / 2 / 5;

export const swactHandler: HandlerDef<HostCtx> = {
  name: "swact",
  description: "move the active controller's services to its standby via SM",
  stages: [
    {
      name: "START",
      run: (c) => {
        c.env.alarms.log("200.021", c.name, `${c.name} swact`);
        c.setTask("Swact: Request");
        c.vars.tries = 0;
        return goto("QUERY");
      },
      next: [["QUERY"]],
    },
    {
      name: "QUERY",
      run: (c) => {
        c.launch("q", () => c.env.sm.query(c.name));
        return goto("QUERY_DONE");
      },
      next: [["QUERY_DONE"]],
    },
    {
      name: "QUERY_DONE",
      timeoutMs: () => 10 * SEC,
      run: (c) => {
        const o = c.outcome<{ activeServices: boolean }>("q");
        if (!o || o.state === "pending") return stay;
        if (o.state === "fail") return goto("QUERY_FAIL");
        if (!o.value.activeServices) {
          c.setTask("Swact: No active services");
          return goto("DONE");
        }
        return goto("ACTION");
      },
      onTimeout: () => goto("QUERY_FAIL"),
      next: [["ACTION", "services active"], ["DONE", "no active services"], ["QUERY_FAIL"]],
    },
    {
      name: "QUERY_FAIL",
      timeoutMs: () => 10 * SEC,
      run: (c) => {
        if ((c.vars.tries as number) >= QUERY_TRIES) {
          c.setTask("Swact: Query Failed");
          return goto("DONE");
        }
        return stay;
      },
      onTimeout: (c) => {
        c.vars.tries = (c.vars.tries as number) + 1;
        return goto("QUERY");
      },
      next: [
        ["QUERY", "retry in 10 s"],
        ["DONE", "10 tries"],
      ],
    },
    {
      name: "ACTION",
      run: (c) => {
        const stopped: string[] = [];
        for (const h of c.env.hosts()) {
          if (h.isSelf || h === c || h.rec.administrative !== "unlocked" || h.rec.operational !== "enabled") continue;
          c.env.heartbeat.stopHost(h.name);
          stopped.push(h.name);
        }
        c.vars.stopped = stopped;
        c.setTask("Swact: In-Progress");
        c.launch("swact", () => c.env.sm.swact(c.name));
        return goto("ACTION_WAIT");
      },
      next: [["ACTION_WAIT"]],
    },
    {
      name: "ACTION_WAIT",
      timeoutMs: (c) => (Math.max(60, c.cfg.timeouts.swact) * SEC) / 2,
      run: (c) => {
        const o = c.outcome("swact");
        if (o?.state === "fail") return goto("ACTION_FAIL");
        return stay;
      },
      onTimeout: (c) => {
        c.vars.polls = 0;
        return goto("ACTION_POLL");
      },
      next: [
        ["ACTION_POLL", "swact_timeout/2"],
        ["ACTION_FAIL", "SM refused"],
      ],
    },
    {
      name: "ACTION_POLL",
      timeoutMs: (c) => pollMs(c),
      run: (c) => {
        const o = c.outcome<{ activeServices: boolean }>("poll");
        if (o?.state === "ok" && !o.value.activeServices) {
          c.setTask("Swact: Complete");
          return goto("DONE");
        }
        return stay;
      },
      onTimeout: (c) => {
        const polls = bump(c, "polls");
        if (polls > 5) {
          c.setTask("Swact: Timeout");
          return goto("DONE");
        }
        c.launch("poll", () => c.env.sm.query(c.name));
        return goto("ACTION_POLL");
      },
      next: [
        ["ACTION_POLL", "re-query"],
        ["DONE", "complete / timeout"],
      ],
    },
    {
      name: "ACTION_FAIL",
      run: (c) => {
        c.setTask("Swact: Failed");
        return goto("DONE");
      },
      next: [["DONE"]],
    },
    {
      name: "DONE",
      run: (c) => {
        // The original's new active mtcAgent re-adds every host; one agent serving both roles restarts them here.
        for (const name of (c.vars.stopped as string[] | undefined) ?? []) c.env.heartbeat.startHost(name);
        c.setAction("none");
        holdThenClearTask(c, c.rec.task);
        return done(c.rec.task === "Swact: Complete" || c.rec.task === "Swact: No active services" ? "pass" : "fail");
      },
      next: [[END]],
    },
  ],
};
