import { MtcCmd } from "../wire/mtc-codes.js";
import type { HostCommand } from "./ports.js";

interface CommandSpec {
  code: number;
  /** The client ACKs it ("cgts mtc cmd rsp:" with parm[0] = rc). */
  acked: boolean;
}

/** HostCommand → the reference code and whether the client answers with an ACK (reference §1.5). */
export const HOST_COMMANDS: Readonly<Record<HostCommand, CommandSpec>> = {
  loopback: { code: MtcCmd.MTC_CMD_LOOPBACK, acked: true },
  reboot: { code: MtcCmd.MTC_CMD_REBOOT, acked: true },
  wipedisk: { code: MtcCmd.MTC_CMD_WIPEDISK, acked: true },
  reset: { code: MtcCmd.MTC_CMD_RESET, acked: true },
  // Answered by an mtcAlive, not an ACK.
  reqMtcAlive: { code: MtcCmd.MTC_REQ_MTCALIVE, acked: false },
  reqMainGoenabled: { code: MtcCmd.MTC_REQ_MAIN_GOENABLED, acked: true },
  reqSubfGoenabled: { code: MtcCmd.MTC_REQ_SUBF_GOENABLED, acked: true },
  subfGoenabledFailed: { code: MtcCmd.MTC_MSG_SUBF_GOENABLED_FAILED, acked: false },
  locked: { code: MtcCmd.MTC_MSG_LOCKED, acked: true },
  unlocked: { code: MtcCmd.MTC_MSG_UNLOCKED, acked: true },
  stopControlServices: { code: MtcCmd.MTC_CMD_STOP_CONTROL_SVCS, acked: true },
  stopWorkerServices: { code: MtcCmd.MTC_CMD_STOP_WORKER_SVCS, acked: true },
  stopStorageServices: { code: MtcCmd.MTC_CMD_STOP_STORAGE_SVCS, acked: true },
  startControlServices: { code: MtcCmd.MTC_CMD_START_CONTROL_SVCS, acked: true },
  startWorkerServices: { code: MtcCmd.MTC_CMD_START_WORKER_SVCS, acked: true },
  startStorageServices: { code: MtcCmd.MTC_CMD_START_STORAGE_SVCS, acked: true },
  lazyReboot: { code: MtcCmd.MTC_CMD_LAZY_REBOOT, acked: true },
  info: { code: MtcCmd.MTC_MSG_INFO, acked: false },
  sync: { code: MtcCmd.MTC_CMD_SYNC, acked: false },
};
