import type { PowerAction, PowerState } from "@metal/core/plugin-api";

/** The ResetType a power action tries first (graceful) and after half the retries (forced). */
export interface ResetPlan {
  graceful?: string;
  forced?: string;
  /** The state that proves the action worked; absent for restarts, which end where they began. */
  want?: PowerState;
}

/** Every ResetType the Redfish schema defines; a BMC that lists none allows them all. */
export const ALL_RESET_TYPES = ["On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "Nmi", "ForceOn", "PushPowerButton", "PowerCycle"];

const PLANS: Record<PowerAction, ResetPlan> = {
  on: { graceful: "On", forced: "ForceOn", want: "on" },
  off: { graceful: "GracefulShutdown", forced: "ForceOff", want: "off" },
  "graceful-off": { graceful: "GracefulShutdown", want: "off" },
  reset: { graceful: "GracefulRestart", forced: "ForceRestart" },
  "graceful-restart": { graceful: "GracefulRestart" },
  cycle: { forced: "PowerCycle" },
};

/**
 * Reference §6.2 (mtcBmcUtil.cpp): reset = GracefulRestart then ForceRestart, power-on = On then ForceOn,
 * power-off = GracefulShutdown then ForceOff; "each falls back to whichever variant exists".
 */
export function planFor(action: PowerAction, allowable: readonly string[]): ResetPlan {
  const p = PLANS[action];
  const has = (t: string | undefined) => t !== undefined && allowable.includes(t);
  const graceful = has(p.graceful) ? p.graceful : has(p.forced) && action !== "graceful-off" && action !== "graceful-restart" ? p.forced : undefined;
  const forced = has(p.forced) ? p.forced : graceful;
  return { ...(graceful ? { graceful } : {}), ...(forced ? { forced } : {}), ...(p.want ? { want: p.want } : {}) };
}

/** The reset type for attempt `i` of `retries`: graceful first, forced once half the retries are spent. */
export function resetTypeForAttempt(plan: ResetPlan, attempt: number, retries: number): string | undefined {
  const switchAt = Math.floor(retries / 2);
  return attempt < switchAt ? (plan.graceful ?? plan.forced) : (plan.forced ?? plan.graceful);
}

/**
 * Every Resource.PowerState of the schema → on/off: a host powering off still runs, one powering on is not up
 * yet, a Paused host is powered (its execution is suspended). `null` or an absent property is "not known yet"
 * (a BMC still starting answers so): the caller polls again. Anything else is not a schema value.
 */
export function powerStateOf(v: unknown): PowerState | "unknown" | undefined {
  if (v === "On" || v === "PoweringOff" || v === "Paused") return "on";
  if (v === "Off" || v === "PoweringOn") return "off";
  if (v === null || v === undefined) return "unknown";
  return undefined;
}
