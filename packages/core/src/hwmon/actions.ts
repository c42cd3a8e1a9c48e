export type HwmonAction = "ignore" | "log" | "alarm" | "reset" | "power-cycle";

export interface GroupActions {
  minor: HwmonAction;
  major: HwmonAction;
  critical: HwmonAction;
}

/** Reference defaults: minor=ignore, major=log, critical=alarm. */
export const DEFAULT_GROUP_ACTIONS: GroupActions = { minor: "ignore", major: "log", critical: "alarm" };

/**
 * Reference rules: minor and major may be ignore, log or alarm; critical adds reset and power-cycle, except on
 * an AIO simplex system (resetting the only controller is never the right answer). Throws with the reason.
 */
export function validateGroupActions(group: string, a: GroupActions, systemType: "standard" | "aio-sx" | "aio-dx"): GroupActions {
  const basic = new Set<HwmonAction>(["ignore", "log", "alarm"]);
  for (const level of ["minor", "major"] as const) {
    if (!basic.has(a[level])) throw new Error(`sensor group ${group}: ${level} action must be ignore, log or alarm (got '${a[level]}')`);
  }
  const critical = new Set<HwmonAction>(["ignore", "log", "alarm", ...(systemType === "aio-sx" ? [] : (["reset", "power-cycle"] as const))]);
  if (!critical.has(a.critical)) {
    throw new Error(
      systemType === "aio-sx" && (a.critical === "reset" || a.critical === "power-cycle")
        ? `sensor group ${group}: critical action '${a.critical}' is not allowed on an AIO simplex system`
        : `sensor group ${group}: critical action must be ignore, log, alarm, reset or power-cycle (got '${a.critical}')`,
    );
  }
  return a;
}
