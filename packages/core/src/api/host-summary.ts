import type { HostCtx } from "../fsm/host-context.js";
import { DegradeMask } from "../inventory/host.js";

/** What the dashboard and `metal events` show of a host: its states, task, FSM position and degrade reasons. */
export interface HostSummary {
  hostname: string;
  personality: string;
  administrative: string;
  operational: string;
  availability: string;
  action: string;
  task: string;
  /** The running handler and its stage (reference §2 stage names), when one is running. */
  handler?: string;
  stage?: string;
  degradeMask: number;
  /** The names of the set degrade-mask bits (DegradeMask keys), e.g. ["HeartbeatMgmt"]. */
  degrade: string[];
  uptime: number;
}

const MASK_NAMES = Object.entries(DegradeMask) as Array<[string, number]>;

/** The degrade-mask bits by name (reference §2.6 degrade reasons). */
export function degradeReasons(mask: number): string[] {
  return MASK_NAMES.filter(([, bit]) => (mask & bit) !== 0).map(([name]) => name);
}

export function hostSummary(c: HostCtx): HostSummary {
  const r = c.rec;
  const running = c.run && !c.run.result ? c.run : undefined;
  return {
    hostname: r.hostname,
    personality: r.personality,
    administrative: r.administrative,
    operational: r.operational,
    availability: r.availability,
    action: r.action,
    task: r.task,
    ...(running ? { handler: running.handler, stage: running.stage } : {}),
    degradeMask: r.degradeMask,
    degrade: degradeReasons(r.degradeMask),
    uptime: r.uptime,
  };
}

/** A cheap fingerprint of what a summary shows (uptime left out: it changes with every mtcAlive). */
export function summaryKey(c: HostCtx): string {
  const r = c.rec;
  const running = c.run && !c.run.result ? c.run : undefined;
  return `${r.administrative}|${r.operational}|${r.availability}|${r.action}|${r.task}|${r.degradeMask}|${running?.handler ?? ""}|${running?.stage ?? ""}`;
}
