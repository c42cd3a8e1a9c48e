/**
 * Command, message and event codes of `mtc_message_type.cmd` (reference mtce-core.md §1.5, nodeBase.h).
 * Names are the reference's, so logs read like the original's.
 */
export const MtcCmd = {
  MTC_CMD_NONE: 0,
  MTC_CMD_LOOPBACK: 1,
  MTC_CMD_REBOOT: 2,
  MTC_CMD_WIPEDISK: 3,
  MTC_CMD_RESET: 4,
  MTC_MSG_MTCALIVE: 5,
  MTC_REQ_MTCALIVE: 6,
  MTC_MSG_MAIN_GOENABLED: 7,
  MTC_MSG_SUBF_GOENABLED: 8,
  MTC_REQ_MAIN_GOENABLED: 9,
  MTC_REQ_SUBF_GOENABLED: 10,
  MTC_MSG_MAIN_GOENABLED_FAILED: 11,
  MTC_MSG_SUBF_GOENABLED_FAILED: 12,
  MTC_MSG_LOCKED: 13,
  MTC_CMD_STOP_CONTROL_SVCS: 14,
  MTC_CMD_STOP_WORKER_SVCS: 15,
  MTC_CMD_STOP_STORAGE_SVCS: 16,
  MTC_CMD_START_CONTROL_SVCS: 17,
  MTC_CMD_START_WORKER_SVCS: 18,
  MTC_CMD_START_STORAGE_SVCS: 19,
  MTC_CMD_LAZY_REBOOT: 20,
  MTC_CMD_HOST_SVCS_RESULT: 21,
  MTC_MSG_INFO: 22,
  MTC_CMD_SYNC: 23,
  MTC_MSG_UNLOCKED: 24,
  // Host-level / daemon commands (agent -> hbsAgent, hwmond, guestAgent)
  MTC_CMD_ADD_HOST: 0x11110010,
  MTC_CMD_DEL_HOST: 0x11110011,
  MTC_CMD_MOD_HOST: 0x11110012,
  MTC_CMD_QRY_HOST: 0x11110013,
  MTC_CMD_START_HOST: 0x11110014,
  MTC_CMD_STOP_HOST: 0x11110015,
  MTC_CMD_ACTIVE_CTRL: 0x11110016,
  MTC_RESTART_HBS: 0xf11f,
  MTC_BACKOFF_HBS: 0xf00f,
  MTC_RECOVER_HBS: 0x0ff0,
} as const;

export const MtcEvent = {
  MTC_EVENT_MONITOR_READY: 0xf0f0f0f0,
  MTC_EVENT_HEARTBEAT_READY: 0x5a5a5a5a,
  MTC_EVENT_HEARTBEAT_LOSS: 0x0000fead,
  MTC_EVENT_HEARTBEAT_DEGRADE_SET: 0xbeefbeef,
  MTC_EVENT_HEARTBEAT_DEGRADE_CLR: 0xf00df00d,
  MTC_EVENT_HEARTBEAT_MINOR_SET: 0xdadeedad,
  MTC_EVENT_HEARTBEAT_MINOR_CLR: 0xdad00dad,
  MTC_EVENT_PMON_CLEAR: 0x02020202,
  MTC_EVENT_PMON_CRIT: 0x04040404,
  MTC_EVENT_PMON_MAJOR: 0x05050505,
  MTC_EVENT_PMON_MINOR: 0x08080808,
  MTC_EVENT_PMON_LOG: 0x03030303,
  MTC_EVENT_PMOND_CLEAR: 0x06060606,
  MTC_EVENT_PMOND_RAISE: 0x07070707,
  MTC_EVENT_HOST_STALLED: 0x66600999,
  MTC_EVENT_HWMON_CLEAR: 0x11110001,
  MTC_EVENT_HWMON_MINOR: 0x11110002,
  MTC_EVENT_HWMON_MAJOR: 0x11110003,
  MTC_EVENT_HWMON_CRIT: 0x11110004,
  MTC_EVENT_HWMON_RESET: 0x11110005,
  MTC_EVENT_HWMON_LOG: 0x11110006,
  MTC_EVENT_HWMON_POWERDOWN: 0x11110008,
  MTC_EVENT_HWMON_POWERCYCLE: 0x11110009,
  MTC_DEGRADE_RAISE: 0x77770001,
  MTC_DEGRADE_CLEAR: 0x77770000,
  MTC_EVENT_AVS_CLEAR: 0x12340000,
  MTC_EVENT_AVS_MAJOR: 0x12340001,
  MTC_EVENT_AVS_CRITICAL: 0x12340002,
  MTC_EVENT_AVS_OFFLINE: 0x12340003,
} as const;

/** MTC_ENHANCED_HOST_SERVICES, parm[1] of the host-services ACK. */
export const MTC_ENHANCED_HOST_SERVICES = 0x1b0000b1;
/** ver=1: plain command. ver=2 (MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF): JSON at buf[res]. */
export const MTC_CMD_VERSION = 1;
export const MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF = 2;

const names = new Map<number, string>();
for (const [k, v] of Object.entries(MtcCmd)) names.set(v, k);
for (const [k, v] of Object.entries(MtcEvent)) if (!names.has(v)) names.set(v, k);

/** The reference name of a cmd value, or its hex when unknown. */
export function mtcCodeName(code: number): string {
  return names.get(code) ?? `0x${code.toString(16)}`;
}

export function mtcCodeByName(name: string): number | undefined {
  // Own keys only: 'toString' or 'constructor' is not a code name.
  if (Object.hasOwn(MtcCmd, name)) return (MtcCmd as Record<string, number>)[name];
  if (Object.hasOwn(MtcEvent, name)) return (MtcEvent as Record<string, number>)[name];
  return undefined;
}
