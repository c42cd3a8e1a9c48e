import type { BmcInfo, PowerState, SensorReading, SensorStatus } from "@metal/core/plugin-api";

/** Reference §6.4 (hwmon's MAX_IPMITOOL_PARSE_ERRORS = 20): past this many malformed lines the output is not trusted. */
export const MAX_PARSE_ERRORS = 20;

const SEVERITY_ORDER: Record<SensorStatus, number> = { na: 0, ok: 1, nc: 2, cr: 3, nr: 4 };

/**
 * ipmitool's threshold status → metal severity (reference hwmonUtil.cpp get_bmc_severity):
 * nc/lnc/unc → nc, cr/lcr/ucr → cr, nr/lnr/unr → nr, na/ns → na. The reference maps an unknown word to
 * MINOR; metal has no minor sensor status, so an unknown word reads as na and the hwmon layer logs it.
 */
export function ipmiStatus(word: string): SensorStatus {
  const w = word.trim().toLowerCase();
  if (w === "ok") return "ok";
  if (w === "nc" || w === "lnc" || w === "unc") return "nc";
  if (w === "cr" || w === "lcr" || w === "ucr") return "cr";
  if (w === "nr" || w === "lnr" || w === "unr") return "nr";
  return "na";
}

/** A decimal reading; `na`, empty and a discrete sensor's hex state word (`0x0`) are no reading. */
function numberOrUndefined(s: string): number | undefined {
  const t = s.trim();
  if (t === "" || t === "na" || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

export interface SensorParse {
  readings: SensorReading[];
  errors: number;
}

/**
 * `ipmitool sensor list`: 10 `|`-separated columns (name, value, unit, status, lnr, lcr, lnc, unc, ucr, unr).
 * Duplicate names are merged keeping the worse status (reference: na/ns < ok < nc < cr < nr).
 * Blank lines and comment lines (`#` or `;` first) are skipped, not counted as errors (reference hwmonThreads.cpp).
 * A discrete sensor (unit `discrete`, value and status hex state words) has no reading and status na.
 */
export function parseSensorList(text: string): SensorParse {
  const byName = new Map<string, SensorReading>();
  let errors = 0;
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
    const cols = line.split("|");
    if (cols.length !== 10) {
      errors++;
      continue;
    }
    const [name, value, unit, status, lnr, lcr, lnc, unc, ucr, unr] = cols.map((c) => c.trim()) as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (name === "") {
      errors++;
      continue;
    }
    const thresholds: NonNullable<SensorReading["thresholds"]> = {};
    const put = (k: keyof typeof thresholds, v: string) => {
      const n = numberOrUndefined(v);
      if (n !== undefined) thresholds[k] = n;
    };
    put("lowerNonRecoverable", lnr);
    put("lowerCritical", lcr);
    put("lowerNonCritical", lnc);
    put("upperNonCritical", unc);
    put("upperCritical", ucr);
    put("upperNonRecoverable", unr);
    const reading: SensorReading = {
      name,
      value: numberOrUndefined(value) ?? null,
      unit,
      status: ipmiStatus(status),
      ...(Object.keys(thresholds).length ? { thresholds } : {}),
    };
    const prev = byName.get(name);
    if (!prev || SEVERITY_ORDER[reading.status] > SEVERITY_ORDER[prev.status]) byName.set(name, reading);
  }
  return { readings: [...byName.values()], errors };
}

/**
 * `Label : value` lines of `mc info` and `fru print`. ipmitool indents each FRU field by one space
 * (` Product Name          : X1`), so indented labels count; continuation lines (no colon, e.g. the
 * device-support list under mc info) are ignored. The first occurrence of a label wins.
 */
export function parseLabels(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const key = line.slice(0, i).trim();
    if (key && !out.has(key)) out.set(key, line.slice(i + 1).trim());
  }
  return out;
}

/** `mc info` (+ optional `fru print 0`) → BmcInfo, as the reference's IPMI bring-up reads them (§6.1). */
export function parseInfo(mcInfo: string, fru = ""): BmcInfo {
  const mc = parseLabels(mcInfo);
  const f = parseLabels(fru);
  const extra: Record<string, string> = {};
  const keys: Array<[string, string]> = [
    ["Device ID", "deviceId"],
    ["Device Revision", "deviceRevision"],
    ["Manufacturer ID", "manufacturerId"],
    ["Product ID", "productId"],
    ["IPMI Version", "ipmiVersion"],
  ];
  for (const [label, key] of keys) {
    const v = mc.get(label);
    if (v) extra[key] = v;
  }
  return {
    manufacturer: mc.get("Manufacturer Name") || f.get("Product Manufacturer") || f.get("Board Mfg") || mc.get("Manufacturer ID") || "",
    model: f.get("Product Name") || mc.get("Product Name") || mc.get("Product ID") || "",
    serial: f.get("Product Serial") || f.get("Board Serial") || f.get("Chassis Serial") || "",
    firmwareVersion: mc.get("Firmware Revision") || "",
    extra,
  };
}

/** Reference §6.1: a response containing "Chassis Power is on" is on; anything else is off. */
export function parsePowerStatus(text: string): PowerState | undefined {
  if (/Chassis Power is on/.test(text)) return "on";
  if (/Chassis Power is off/.test(text)) return "off";
  return undefined;
}
