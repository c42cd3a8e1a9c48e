/**
 * The mtcAlive flag bitmask (`MTC_FLAG__*`, reference mtce-core.md §4) and the health values of parm[1].
 */
export const MtcFlag = {
  I_AM_CONFIGURED: 0x1,
  I_AM_NOT_HEALTHY: 0x2,
  I_AM_HEALTHY: 0x4,
  I_AM_LOCKED: 0x8,
  SUBF_CONFIGURED: 0x10,
  MAIN_GOENABLED: 0x20,
  SUBF_GOENABLED: 0x40,
  SM_DEGRADED: 0x80,
  PATCHING: 0x100,
  PATCHED: 0x200,
  LUKS_VOL_FAILED: 0x400,
  SM_UNHEALTHY: 0x1000,
  MAIN_GOENABLE_FAIL: 0x10000,
  SUBF_GOENABLE_FAIL: 0x20000,
  MAIN_SERVICES_FAIL: 0x40000,
  SUBF_SERVICES_FAIL: 0x80000,
} as const;
export type MtcFlagName = keyof typeof MtcFlag;

/** parm[1] of an mtcAlive: 0 unknown, 1 healthy (.config_pass), 2 unhealthy (.config_fail). */
export const MtcHealth = { UNKNOWN: 0, HEALTHY: 1, UNHEALTHY: 2 } as const;

/** The names of the set flags, for logs and `metal wire decode`. */
export function mtcFlagNames(flags: number): MtcFlagName[] {
  return (Object.entries(MtcFlag) as Array<[MtcFlagName, number]>).filter(([, bit]) => (flags & bit) !== 0).map(([name]) => name);
}
