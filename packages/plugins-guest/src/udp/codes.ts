import { MtcCmd, MtcEvent } from "@metal/core/wire/index";

/**
 * Command and event codes between guestAgent and guestServer (reference A.11, nodeBase.h). The host-level
 * codes are the core's; the instance ones belong to the guest service and live here.
 */
export const GuestCmd = {
  MTC_CMD_MOD_HOST: MtcCmd.MTC_CMD_MOD_HOST,
  MTC_CMD_ADD_INST: 0x11110020,
  MTC_CMD_DEL_INST: 0x11110021,
  MTC_CMD_MOD_INST: 0x11110022,
  MTC_CMD_QRY_INST: 0x11110023,
  MTC_CMD_VOTE_INST: 0x11110024,
  MTC_CMD_NOTIFY_INST: 0x11110025,
  MTC_EVENT_LOOPBACK: 0x01010101,
} as const;

export const GuestEvent = {
  MTC_EVENT_MONITOR_READY: MtcEvent.MTC_EVENT_MONITOR_READY,
  MTC_EVENT_HEARTBEAT_RUNNING: 0x0110fead,
  MTC_EVENT_HEARTBEAT_STOPPED: 0x0100fead,
  MTC_EVENT_HEARTBEAT_ILLHEALTH: 0x0001fead,
  MTC_EVENT_HEARTBEAT_LOSS: MtcEvent.MTC_EVENT_HEARTBEAT_LOSS,
  MTC_EVENT_VOTE_NOTIFY: 0xfeedfeed,
  /** The reply to QRY_INST carries the same code as the query. */
  MTC_CMD_QRY_INST: 0x11110023,
} as const;

/** Inventory commands mtcAgent sends to guestAgent on ports.guestCmd (2108). */
export const InventoryCmd = {
  MTC_CMD_ADD_HOST: MtcCmd.MTC_CMD_ADD_HOST,
  MTC_CMD_DEL_HOST: MtcCmd.MTC_CMD_DEL_HOST,
  MTC_CMD_MOD_HOST: MtcCmd.MTC_CMD_MOD_HOST,
} as const;

const names = new Map<number, string>();
for (const table of [GuestCmd, GuestEvent, InventoryCmd]) for (const [k, v] of Object.entries(table)) if (!names.has(v)) names.set(v, k);

export function guestCodeName(code: number): string {
  return names.get(code) ?? `0x${code.toString(16)}`;
}
