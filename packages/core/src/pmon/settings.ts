import { z } from "zod";

/**
 * pmond and hostwd settings (issue 13; reference mtce-core.md §9, pmond.conf, hostwd.conf). The config's `pmon`
 * block. Seconds unless the name says Ms. Paths default to files under the config's root.
 */
const port = z.number().int().min(0).max(65535);

export const hostwdSchema = z
  .object({
    /** The watchdog device hostwd pets every petPeriodMs (any file in tests and the lab). */
    device: z.string().min(1).default("/dev/watchdog"),
    /** How often the device is petted (1 s). */
    petPeriodMs: z.number().int().min(10).max(60_000).default(1000),
    /** hostwd_failure_threshold: missed quorum reports before the action. */
    failureThreshold: z.number().int().min(1).max(100).default(3),
    /** hostwd_kdump_on_stall: the action is a crash dump (sysrq c). */
    kdumpOnStall: z.boolean().default(true),
    /** hostwd_reboot_on_err: the action is a reboot (when kdumpOnStall is off). */
    rebootOnErr: z.boolean().default(true),
  })
  .strict();

export const pmonSchema = z
  .object({
    /** Where the per-process confs live; default <root>/etc/pmon.d. */
    confDir: z.string().min(1).optional(),
    /** pmond.conf audit_period (ms): the alive pulse to hbsClient; processes are audited every auditPeriodMs/10. */
    auditPeriodMs: z.number().int().min(10).max(600_000).default(500),
    /** [timeouts] start_delay: seconds after goenabled before monitoring starts (reference range 1..120). */
    startDelay: z.number().int().min(0).max(120).default(30),
    /** How a failed process is restarted: `systemctl restart <service>` or its LSB `script start`. */
    recovery: z.enum(["systemd", "script"]).default("systemd"),
    /** Loopback address of the pmond pulse and the active-monitor ping-pong (the lab gives each host its own). */
    loopbackAddress: z.string().min(1).max(64).default("127.0.0.1"),
    /** pmon_amon_port: pmond's active-monitor socket (processes answer to it). */
    amonPort: port.default(2200),
    /** hostwd_update_period: seconds between pmond's quorum reports to hostwd. */
    hostwdUpdatePeriod: z.number().int().min(1).default(30),
    /** hostwd's UNIX socket ("HostWatchdog"); default <root>/var/run/hostwd.sock. */
    hostwdSocket: z.string().min(1).optional(),
    /** pmond's status socket (`metal pmon status`); default <root>/var/run/pmond.sock. */
    statusSocket: z.string().min(1).optional(),
    /** Longest a recovery command (systemctl, script start/status) may run. */
    commandTimeoutMs: z.number().int().min(100).default(20_000),
    /** How often a major process failure re-sends MTC_EVENT_PMON_MAJOR (the degrade refresh). */
    degradeRefreshMs: z.number().int().min(100).default(30_000),
    hostwd: hostwdSchema.default(hostwdSchema.parse({})),
  })
  .strict();

export type PmonSettings = z.infer<typeof pmonSchema>;
