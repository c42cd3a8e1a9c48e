import type { MetalConfig } from "../config/schema.js";
import type { HwmonMonitorOptions } from "./monitor.js";

/** The monitor options the config's `hwmon` section (seconds) and `system.type` give. */
export function hwmonSettings(config: MetalConfig): Pick<HwmonMonitorOptions, "auditIntervalMs" | "degradeAuditMs" | "defaultActions" | "systemType"> {
  return {
    auditIntervalMs: config.hwmon.auditInterval * 1000,
    degradeAuditMs: config.hwmon.degradeAuditPeriod * 1000,
    defaultActions: config.hwmon.actions,
    systemType: config.system.type,
  };
}
