import { z } from "zod";

const seconds = z.number().int().min(0);

/**
 * BMC access (reference §6.1, §6.5; peers.md 1.3 and (b).1). Seconds unless the name says Ms.
 */
export const bmcSchema = z
  .object({
    /** Bound for one CLI/BMC operation, retries included: an unreachable BMC fails within it. */
    timeout: z.number().int().min(1).max(600).default(30),
    /** The broker's token bucket per BMC: sustained calls per second and burst. */
    ratePerSec: z.number().positive().max(100).default(2),
    burst: z.number().int().min(1).max(100).default(4),
    /** Calls to one BMC at a time through its broker. */
    maxConcurrent: z.number().int().min(1).max(16).default(1),
    /** Consecutive access failures that open the circuit (MTC_MAX_B2B_BM_ACCESS_FAIL_COUNT_B4_ALARM). */
    breakerThreshold: z.number().int().min(1).default(5),
    /** How long an open circuit refuses calls before one trial call (MTC_POWER_ACTION_RETRY_DELAY-like). */
    breakerOpen: seconds.default(20),
    /** Access monitor probe period (the reference pings every 60 s) and the alarm delay (200.010 after 2 min). */
    probeInterval: z.number().int().min(1).default(60),
    accessAlarmDelay: seconds.default(120),
    /** Minimum gap between two ipmitool commands to one BMC (Ironic min_command_interval). */
    minCommandIntervalMs: z.number().int().min(0).default(100),
    /** Where `metal console H` appends each host's console log. Relative to root. */
    consoleLogDir: z.string().min(1).default("/var/log/metal/console"),
  })
  .strict();

const action = z.enum(["ignore", "log", "alarm", "reset", "power-cycle"]);

/** hwmon (reference §6.4): per-group audit interval and the default actions by severity. */
export const hwmonSchema = z
  .object({
    /** HWMON_DEFAULT_AUDIT_INTERVAL; the reference's minimum is 10 s. */
    auditInterval: z.number().int().min(10).default(120),
    /** Degrade audit: re-send raise/clear every period (hwmond.conf audit_period). */
    degradeAuditPeriod: z.number().int().min(1).default(30),
    actions: z
      .object({ minor: action.default("ignore"), major: action.default("log"), critical: action.default("alarm") })
      .strict()
      .default({ minor: "ignore", major: "log", critical: "alarm" }),
  })
  .strict();
