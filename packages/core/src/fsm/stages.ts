import { nodeTypeMask } from "../inventory/host.js";
import { powerStatus } from "./bmc-power.js";
import { holdThenClearTask, SEC } from "./common.js";
import { done, END, goto, type StageDef, type Step, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";

/** Stages several handlers share, built from their own transitions so each diagram stays exact. */

type Next = ReadonlyArray<readonly [string, string?]>;

/**
 * GOENABLED_TIMER + GOENABLED_WAIT (reference §2.4, §2.6, §2.16): request the main or subfunction goenabled
 * tests and wait `goenabled_timeout + 3` s for the result.
 */
export function goenabledStages(o: {
  subf: boolean;
  passed(c: HostCtx): Step;
  failed(c: HostCtx, why: "failed" | "timeout"): Step;
  /** An extra failure check while waiting (the NOT_HEALTHY flag in the enable handler). */
  unhealthy?(c: HostCtx): boolean;
  next: Next;
}): StageDef<HostCtx>[] {
  return [
    {
      name: "GOENABLED_TIMER",
      run: (c) => {
        c.vars.goenabledFrom = c.now();
        c.send(o.subf ? "reqSubfGoenabled" : "reqMainGoenabled", { expectAck: false });
        return goto("GOENABLED_WAIT");
      },
      next: [["GOENABLED_WAIT"]],
    },
    {
      name: "GOENABLED_WAIT",
      timeoutMs: (c) => (c.cfg.timeouts.goenabled + 3) * SEC,
      run: (c) => {
        if (o.unhealthy?.(c)) return o.failed(c, "failed");
        const g = c.goenabled;
        if (!g || g.subf !== o.subf || g.at < (c.vars.goenabledFrom as number)) return stay;
        return g.passed ? o.passed(c) : o.failed(c, "failed");
      },
      onTimeout: (c) => o.failed(c, "timeout"),
      next: o.next,
    },
  ];
}

/** ADD_HOST: the host's heartbeat addresses and node type to the hbsAgents (monitoring starts with START_HOST). */
export function addToHeartbeat(c: HostCtx): void {
  c.env.heartbeat.addHost({
    hostname: c.name,
    mgmtIp: c.rec.mgmtIp ?? "",
    ...(c.rec.clusterHostIp ? { clusterHostIp: c.rec.clusterHostIp } : {}),
    nodeType: nodeTypeMask(c.rec),
  });
}

/** Start the heartbeat soak: forget earlier losses, START_HOST. */
export function startHeartbeat(c: HostCtx): void {
  c.heartbeatLoss = false;
  c.env.heartbeat.startHost(c.name);
}

/** POWER_STATUS + POWER_STATUS_WAIT: ask the BMC for the power state; `decide` picks the next stage. */
export function powerStatusStages(o: { decide(c: HostCtx, state: "on" | "off"): Step; unreachable: string; next: Next }): StageDef<HostCtx>[] {
  return [
    {
      name: "POWER_STATUS",
      run: (c) => {
        c.launch("status", () => powerStatus(c));
        return goto("POWER_STATUS_WAIT");
      },
      next: [["POWER_STATUS_WAIT"]],
    },
    {
      name: "POWER_STATUS_WAIT",
      timeoutMs: () => 10 * SEC,
      run: (c) => {
        const s = c.outcome<"on" | "off">("status");
        if (!s || s.state === "pending") return stay;
        return s.state === "fail" ? goto(o.unreachable) : o.decide(c, s.value);
      },
      onTimeout: (c) => {
        // No answer in time is as good as no access (reference: "BMC not accessible").
        c.bmcAccessible = false;
        return goto(o.unreachable);
      },
      next: o.next,
    },
  ];
}

/** The last stage of an operator action: action none, the outcome task held for 30 s. */
export function finishStage(name: "DONE" | "FAIL", task?: (c: HostCtx) => string): StageDef<HostCtx> {
  return {
    name,
    run: (c) => {
      c.setAction("none");
      holdThenClearTask(c, task ? task(c) : c.rec.task);
      return done(name === "DONE" ? "pass" : "fail");
    },
    next: [[END]],
  };
}
