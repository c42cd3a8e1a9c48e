import type { MtcAgent } from "../agent/mtc-agent.js";
import type { HeartbeatEvent, HostMessage } from "../agent/ports.js";
import type { AlarmRecord } from "../alarms/sink.js";
import type { EventBus } from "./event-bus.js";
import { hostSummary, summaryKey } from "./host-summary.js";

/** What the feed tells the metrics besides the bus (all optional). */
export interface AgentFeedObserver {
  heartbeat?(e: HeartbeatEvent): void;
  message?(m: HostMessage): void;
  /** A host left `handler`'s `stage` after `ms` milliseconds (agent clock). */
  stage?(handler: string, stage: string, ms: number): void;
}

/**
 * Turns what the mtcAgent does into bus events: `host` (a host's states, task, FSM stage or degrade reasons
 * changed; the whole summary), `host-removed`, `alarm` (every alarm record: set, clear, msg — the 200.022 state
 * change log included) and `heartbeat` (hbsAgent events: minor/degrade set and clear, loss, pmond). Host changes
 * are found by comparing each host's fingerprint after every scheduler pass, so no handler needs a hook.
 * Returns the function that stops it.
 */
export function feedAgentEvents(agent: MtcAgent, bus: EventBus, observer: AgentFeedObserver = {}): () => void {
  const seen = new Map<string, { key: string; handler: string; stage: string; enteredAt: number }>();
  let stopped = false;
  const now = () => agent.env.clock.now();
  const pass = () => {
    if (stopped) return;
    for (const [name, c] of agent.scheduler.hosts) {
      const key = summaryKey(c);
      const prev = seen.get(name);
      const running = c.run && !c.run.result ? c.run : undefined;
      if (prev?.stage && (prev.stage !== (running?.stage ?? "") || prev.handler !== (running?.handler ?? "")))
        observer.stage?.(prev.handler, prev.stage, Math.max(0, now() - prev.enteredAt));
      if (prev?.key === key) continue;
      seen.set(name, { key, handler: running?.handler ?? "", stage: running?.stage ?? "", enteredAt: running?.enteredAt ?? now() });
      bus.publish("host", hostSummary(c));
    }
    if (seen.size > agent.scheduler.hosts.size)
      for (const name of seen.keys())
        if (!agent.scheduler.hosts.has(name)) {
          seen.delete(name);
          bus.publish("host-removed", { hostname: name });
        }
  };
  // Before the first pass: what is there now is the baseline, not a change.
  for (const [name, c] of agent.scheduler.hosts) {
    const running = c.run && !c.run.result ? c.run : undefined;
    seen.set(name, { key: summaryKey(c), handler: running?.handler ?? "", stage: running?.stage ?? "", enteredAt: running?.enteredAt ?? now() });
  }
  agent.scheduler.onPass(pass);
  const offAlarm = agent.alarms.onRecord((r: AlarmRecord) => {
    if (!stopped) bus.publish("alarm", r);
  });
  const offHb = agent.env.heartbeat.onEvent((e) => {
    if (stopped) return;
    observer.heartbeat?.(e);
    if (e.kind !== "ready") bus.publish("heartbeat", e);
  });
  const offMsg = observer.message ? agent.env.messaging.onMessage((m) => observer.message?.(m)) : () => {};
  return () => {
    stopped = true;
    offAlarm();
    offHb();
    offMsg();
  };
}
