import type { SensorStatus } from "../plugin-api/bmc.js";

/** hwmon severities (reference hwmonUtil.cpp get_bmc_severity). */
export type HwmonSeverity = "good" | "minor" | "major" | "critical" | "nonrecoverable" | "offline";

/**
 * ok → good; nc → major; cr → critical; nr → non-recoverable; na → offline. (lnc/unc, lcr/ucr, lnr/unr and ns
 * are folded into these by the plugins' parsers; the reference's "unknown → minor" has no input left here.)
 */
export function severityOf(status: SensorStatus): HwmonSeverity {
  switch (status) {
    case "ok":
      return "good";
    case "nc":
      return "major";
    case "cr":
      return "critical";
    case "nr":
      return "nonrecoverable";
    case "na":
      return "offline";
    default:
      return "minor";
  }
}

/** The action level a severity selects: minor, major or critical (non-recoverable acts as critical). */
export function actionLevel(s: HwmonSeverity): "minor" | "major" | "critical" | undefined {
  if (s === "minor" || s === "major" || s === "critical") return s;
  if (s === "nonrecoverable") return "critical";
  return undefined;
}
