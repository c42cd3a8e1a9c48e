/** The canned sensor groups of the reference (§6.4), keyed by the unit a sensor reports. */
export const SENSOR_GROUPS = ["fan", "temperature", "voltage", "power", "usage"] as const;
export type SensorGroup = (typeof SENSOR_GROUPS)[number];

const FAN_UNITS = new Set(["rpm", "% rpm", "cfm", "% cfm"]);
const POWER_UNITS = new Set(["amps", "% amps", "watts", "% watts", "joules", "coulombs"]);

export function sensorGroupOf(unit: string): SensorGroup {
  const u = unit.trim().toLowerCase();
  if (FAN_UNITS.has(u)) return "fan";
  if (u.startsWith("degrees")) return "temperature";
  if (u === "volts") return "voltage";
  if (POWER_UNITS.has(u)) return "power";
  return "usage";
}
