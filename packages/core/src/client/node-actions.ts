/**
 * Everything the client does that touches the machine itself. The real implementation calls systemctl;
 * the lab's simulates a reboot so simulated hosts go away and come back.
 */
export interface NodeActions {
  /** Graceful reboot (MTC_CMD_REBOOT, lazy reboot). */
  reboot(reason: string): Promise<void>;
  /** Forced reboot (MTC_CMD_RESET). */
  reset(reason: string): Promise<void>;
  /** Wipe the boot disk, then a forced reboot (MTC_CMD_WIPEDISK). */
  wipedisk(reason: string): Promise<void>;
  /** Magic SysRq, the failsafe when a reboot hangs ("b" reboot, "c" crash dump). */
  sysrq(key: "b" | "c"): Promise<void>;
  stopPmon(): Promise<void>;
  sync(): Promise<void>;
  /** The LUKS encrypted vault is not healthy (`cryptsetup status luks_encrypted_vault` != 0): LUKS_VOL_FAILED. */
  luksVaultFailed(): Promise<boolean>;
  /** Seconds since this node booted. */
  uptimeSeconds(): Promise<number>;
}
