/**
 * Per host, per network consecutive-miss counting (reference mtce-core.md §3.2; the original's lost_pulses and
 * remPulse). Pure bookkeeping: it decides, the agent sends. Thresholds at 100 ms: minor 0.4 s (mgmt only),
 * degrade 0.6 s (major alarm + DEGRADE_SET), failure 1.0 s (critical alarm + LOSS); after a failure 10 pulses
 * in a row are needed before anything clears.
 */
import type { HeartbeatEvent } from "../agent/ports.js";
import type { HbsNetwork } from "./hbs-messages.js";

/** HBS_PULSES_REQUIRED_FOR_RECOVERY. */
export const PULSES_REQUIRED_FOR_RECOVERY = 10;
/** A LOSS is repeated every this many misses past the threshold (HBS_LOSS_REPORT_THROTTLE). */
export const LOSS_REPORT_THROTTLE = 100_000;
/** PMOND_MISSING_THRESHOLD: responses without the pmond flag before the pmond alarm. */
export const PMOND_MISSING_THRESHOLD = 100;

export type HbsAlarmSeverity = "clear" | "major" | "critical";

export interface NetworkPulseState {
  b2bMisses: number;
  b2bPulses: number;
  minor: boolean;
  degrade: boolean;
  failure: boolean;
  /** The heartbeat alarm this controller last raised for the host on this network (de-dup). */
  alarm: HbsAlarmSeverity;
}

export function freshPulseState(): NetworkPulseState {
  return { b2bMisses: 0, b2bPulses: 0, minor: false, degrade: false, failure: false, alarm: "clear" };
}

export interface Thresholds {
  minor: number;
  degrade: number;
  failure: number;
  /** fail | degrade | alarm | none: `none` raises no alarm (the mtcAgent acts on the events per the action). */
  failureAction: "fail" | "degrade" | "alarm" | "none";
}

/** What the counting decided; the agent turns these into events, alarms and cluster-change reasons. */
export interface MissOutcome {
  events: HeartbeatEvent["kind"][];
  alarm?: HbsAlarmSeverity;
  change?: string;
}

export interface MissContext {
  thresholds: Thresholds;
  /** Only the active controller raises alarms and sends events; the other only counts. */
  active: boolean;
  /** The cluster-host-of-a-standard-controller rule (or clusterHostDegradeOnly): critical alarm, never LOSS. */
  degradeOnly: boolean;
}

/** Move the alarm state, suppressing duplicates; never critical -> major without a clear first. */
function alarmStep(state: NetworkPulseState, sev: HbsAlarmSeverity, ctx: MissContext): HbsAlarmSeverity | undefined {
  if (ctx.thresholds.failureAction === "none") return undefined;
  if (sev === "major" && state.alarm === "critical") return undefined;
  if (state.alarm === sev) return undefined;
  state.alarm = sev;
  return sev;
}

/** A period ended without this host's response on this network. */
export function pulseMissed(state: NetworkPulseState, network: HbsNetwork, ctx: MissContext, label: string): MissOutcome {
  const out: MissOutcome = { events: [] };
  const t = ctx.thresholds;
  state.b2bMisses++;
  state.b2bPulses = 0;
  const m = state.b2bMisses;
  if (m > 1 && m < t.failure) out.change = `${label} heartbeat miss ${m}`;

  if (network === "mgmt" && m === t.minor) {
    if (ctx.active) out.events.push("minorSet");
    state.minor = true;
  }
  // At the degrade threshold, or past it when a degrade was never reported (auto-correction).
  if (m === t.degrade || (m > t.degrade && !state.degrade)) {
    if (ctx.active) {
      out.alarm = alarmStep(state, "major", ctx) ?? out.alarm;
      out.events.push("degradeSet");
    }
    state.degrade = true;
  }
  if (m % LOSS_REPORT_THROTTLE === t.failure) {
    out.change = `${label} heartbeat loss`;
    if (ctx.degradeOnly) {
      if (ctx.active) out.alarm = alarmStep(state, "critical", ctx) ?? out.alarm;
    } else {
      if (ctx.active) {
        if (!state.failure) out.alarm = alarmStep(state, "critical", ctx) ?? out.alarm;
        out.events.push("loss");
      }
      state.failure = true;
    }
  }
  return out;
}

/** The outcome of the common case (nothing to report), shared so the hot path allocates nothing. */
const NOTHING: MissOutcome = Object.freeze({ events: Object.freeze([]) as unknown as HeartbeatEvent["kind"][] });

/** A sequence-matched response arrived from this host on this network. */
export function pulseReceived(state: NetworkPulseState, ctx: MissContext, label: string): MissOutcome {
  state.b2bPulses++;
  // Hot path: a healthy host that has been answering for a while.
  if (state.b2bPulses > ctx.thresholds.failure && state.b2bMisses === 0 && !state.failure && !state.degrade && !state.minor && state.alarm === "clear")
    return NOTHING;
  const out: MissOutcome = { events: [] };
  if (state.b2bPulses === ctx.thresholds.failure) out.change = `${label} heartbeat pass`;
  else if (state.b2bPulses === 1) out.change = `${label} heartbeat start`;
  if (state.failure) {
    // After a failure the host must answer 10 times in a row before anything clears.
    if (state.b2bPulses < PULSES_REQUIRED_FOR_RECOVERY) return out;
    state.failure = false;
  }
  state.b2bMisses = 0;
  if (ctx.active) {
    const a = alarmStep(state, "clear", ctx);
    if (a) out.alarm = a;
  }
  if (state.degrade) {
    if (ctx.active) out.events.push("degradeClear");
    state.degrade = false;
  }
  if (state.minor) {
    if (ctx.active) out.events.push("minorClear");
    state.minor = false;
  }
  return out;
}

export interface PmondState {
  missing: number;
  degraded: boolean;
}

/** The pmond flag in a host's responses: missing for more than 100 responses -> raise; seen again -> clear. */
export function pmondFlag(state: PmondState, present: boolean, active: boolean): "raise" | "clear" | undefined {
  if (present) {
    state.missing = 0;
    if (state.degraded && active) {
      state.degraded = false;
      return "clear";
    }
    return undefined;
  }
  if (++state.missing > PMOND_MISSING_THRESHOLD && !state.degraded && active) {
    state.degraded = true;
    return "raise";
  }
  return undefined;
}
