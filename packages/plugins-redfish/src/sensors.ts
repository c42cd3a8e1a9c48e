import type { SensorReading, SensorStatus } from "@metal/core/plugin-api";

type Json = Record<string, unknown>;

const SEVERITY_ORDER: Record<SensorStatus, number> = { na: 0, ok: 1, nc: 2, cr: 3, nr: 4 };

/** Reference §6.4: only an Enabled sensor has a status; Health OK→ok, Warning→nc, Critical→cr, NonRecoverable→nr. */
export function statusOf(status: unknown): SensorStatus {
  const s = (status ?? {}) as { State?: unknown; Health?: unknown };
  if (s.State !== "Enabled") return "na";
  switch (s.Health) {
    case "OK":
      return "ok";
    case "Warning":
      return "nc";
    case "Critical":
      return "cr";
    case "NonRecoverable":
      return "nr";
    default:
      return "na";
  }
}

/**
 * A sensor without `Status` (the property is optional in the schema): its status is unknown, not unavailable.
 * With a reading it is judged against its own thresholds (outside a fatal bound nr, critical cr, caution nc,
 * else ok); without a reading it is na.
 */
export function statusFromReading(value: number | null, t: SensorReading["thresholds"]): SensorStatus {
  if (value === null) return "na";
  const th = t ?? {};
  const out = (lo: number | undefined, hi: number | undefined) => (lo !== undefined && value < lo) || (hi !== undefined && value > hi);
  if (out(th.lowerNonRecoverable, th.upperNonRecoverable)) return "nr";
  if (out(th.lowerCritical, th.upperCritical)) return "cr";
  if (out(th.lowerNonCritical, th.upperNonCritical)) return "nc";
  return "ok";
}

/** `Status` when the resource has one (reference §6.4), else judged from the reading (statusFromReading). */
function statusOrReading(e: Json, value: number | null, t: SensorReading["thresholds"]): SensorStatus {
  return e.Status === undefined || e.Status === null ? statusFromReading(value, t) : statusOf(e.Status);
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function thresholdsOld(e: Json): SensorReading["thresholds"] {
  const t: NonNullable<SensorReading["thresholds"]> = {};
  const map: Array<[keyof NonNullable<SensorReading["thresholds"]>, string]> = [
    ["lowerNonRecoverable", "LowerThresholdFatal"],
    ["lowerNonRecoverable", "LowerThresholdNonRecoverable"],
    ["lowerCritical", "LowerThresholdCritical"],
    ["lowerNonCritical", "LowerThresholdNonCritical"],
    ["upperNonCritical", "UpperThresholdNonCritical"],
    ["upperCritical", "UpperThresholdCritical"],
    ["upperNonRecoverable", "UpperThresholdFatal"],
    ["upperNonRecoverable", "UpperThresholdNonRecoverable"],
  ];
  for (const [k, prop] of map) {
    const v = num(e[prop]);
    if (v !== undefined) t[k] = v;
  }
  return Object.keys(t).length ? t : undefined;
}

function reading(name: unknown, value: unknown, unit: string, e: Json): SensorReading | undefined {
  if (typeof name !== "string" || name.length === 0) return undefined;
  const th = thresholdsOld(e);
  const v = num(value) ?? null;
  return { name, value: v, unit, status: statusOrReading(e, v, th), ...(th ? { thresholds: th } : {}) };
}

function members(doc: Json, key: string): Json[] {
  const v = doc[key];
  return Array.isArray(v) ? v.filter((x): x is Json => typeof x === "object" && x !== null) : [];
}

/** Chassis Thermal: Temperatures (ReadingCelsius, unit "degrees C") and Fans (Reading, RPM; FanName fallback). */
export function parseThermal(doc: Json): SensorReading[] {
  const out: SensorReading[] = [];
  for (const t of members(doc, "Temperatures")) {
    const r = reading(t.Name, t.ReadingCelsius, "degrees C", t);
    if (r) out.push(r);
  }
  for (const f of members(doc, "Fans")) {
    const unit = typeof f.ReadingUnits === "string" ? f.ReadingUnits : "RPM";
    const name = f.Name ?? (unit === "RPM" ? f.FanName : undefined);
    const r = reading(name, f.Reading, unit === "Percent" ? "% RPM" : unit, f);
    if (r) out.push(r);
  }
  return out;
}

/**
 * Chassis Power: Voltages (ReadingVolts), PowerControl (PowerConsumedWatts), power-supply redundancy.
 * Reference §6.4: redundancy with more than one member is forced to Warning, one member is ok, none is ignored.
 */
export function parsePower(doc: Json): SensorReading[] {
  const out: SensorReading[] = [];
  for (const v of members(doc, "Voltages")) {
    const r = reading(v.Name, v.ReadingVolts, "Volts", v);
    if (r) out.push(r);
  }
  for (const p of members(doc, "PowerControl")) {
    const r = reading(p.Name, p.PowerConsumedWatts, "Watts", p);
    if (r) out.push(r);
  }
  for (const red of members(doc, "Redundancy")) {
    const count = num(red["RedundancySet@odata.count"]) ?? 0;
    if (count === 0 || typeof red.Name !== "string") continue;
    out.push({ name: red.Name, value: count, unit: "", status: count > 1 ? "nc" : "ok" });
  }
  return out;
}

/**
 * Sensor.ReadingUnits are UCUM codes (Redfish Sensor schema); the names hwmon groups by (reference §6.4) where
 * one exists. "%" stays "%": it is a humidity, a utilisation or a fan duty alike, so it says nothing of the group;
 * a fan in percent is recognised by its ReadingType (Rotational) instead. Unknown codes pass through.
 */
const SENSOR_UNITS: Record<string, string> = { Cel: "degrees C", RPM: "RPM", V: "Volts", W: "Watts", A: "Amps", J: "Joules", "%": "%" };

/** The newer Chassis/Sensors members (Reading, ReadingUnits, Thresholds.{Upper,Lower}{Caution,Critical,Fatal}.Reading). */
export function parseSensor(doc: Json): SensorReading | undefined {
  const name = doc.Name;
  if (typeof name !== "string" || name.length === 0) return undefined;
  const units = typeof doc.ReadingUnits === "string" ? doc.ReadingUnits : "";
  const th = (doc.Thresholds ?? {}) as Record<string, { Reading?: unknown } | undefined>;
  const t: NonNullable<SensorReading["thresholds"]> = {};
  const pick = (k: keyof typeof t, prop: string) => {
    const v = num(th[prop]?.Reading);
    if (v !== undefined) t[k] = v;
  };
  pick("lowerNonRecoverable", "LowerFatal");
  pick("lowerCritical", "LowerCritical");
  pick("lowerNonCritical", "LowerCaution");
  pick("upperNonCritical", "UpperCaution");
  pick("upperCritical", "UpperCritical");
  pick("upperNonRecoverable", "UpperFatal");
  const value = num(doc.Reading) ?? null;
  const unit = units === "%" && doc.ReadingType === "Rotational" ? "% RPM" : (SENSOR_UNITS[units] ?? units);
  const thresholds = Object.keys(t).length ? t : undefined;
  return { name, value, unit, status: statusOrReading(doc, value, thresholds), ...(thresholds ? { thresholds } : {}) };
}

/** One reading per name; duplicates keep the worse status (reference: na < ok < nc < cr < nr). */
export function mergeBySeverity(readings: Iterable<SensorReading>): SensorReading[] {
  const byName = new Map<string, SensorReading>();
  for (const r of readings) {
    const prev = byName.get(r.name);
    if (!prev || SEVERITY_ORDER[r.status] > SEVERITY_ORDER[prev.status]) byName.set(r.name, r);
  }
  return [...byName.values()];
}
