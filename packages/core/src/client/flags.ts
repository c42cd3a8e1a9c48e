import { existsSync } from "node:fs";
import type { NodePaths } from "../config/paths.js";
import type { NetworkName } from "../transport/transport.js";
import { MtcFlag, MtcHealth } from "../wire/mtc-flags.js";

/** Results the client remembers between mtcAlives (the last goenabled and host-services outcomes). */
export interface ClientResults {
  mainGoenableFail: boolean;
  subfGoenableFail: boolean;
  mainServicesFail: boolean;
  subfServicesFail: boolean;
  luksFailed: boolean;
}

/** SM_UNHEALTHY is debounced over this many mtcAlives per interface (~30 s). */
export const SM_UNHEALTHY_DEBOUNCE = 6;

/**
 * The mtcAlive flag bitmask read from the flag files under the configured root (reference §4). Reads are
 * synchronous existence checks: a dozen stat calls every 5 s, and the message is built in one go.
 */
export class FlagReader {
  private readonly smUnhealthyCount: Record<NetworkName, number> = { mgmt: 0, clusterHost: 0, pxeboot: 0 };

  constructor(
    private readonly paths: NodePaths,
    private readonly hasWorkerSubfunction: boolean,
  ) {}

  health(): number {
    if (existsSync(this.paths.configFail)) return MtcHealth.UNHEALTHY;
    if (existsSync(this.paths.configPass)) return MtcHealth.HEALTHY;
    return MtcHealth.UNKNOWN;
  }

  flags(network: NetworkName, results: ClientResults): number {
    const p = this.paths;
    const on = (file: string, bit: number) => (existsSync(file) ? bit : 0);
    let f = 0;
    f |= on(p.initialConfigComplete, MtcFlag.I_AM_CONFIGURED);
    f |= on(p.configFail, MtcFlag.I_AM_NOT_HEALTHY);
    f |= on(p.configPass, MtcFlag.I_AM_HEALTHY);
    f |= on(p.nodeLocked, MtcFlag.I_AM_LOCKED);
    if (this.hasWorkerSubfunction) f |= on(p.workerConfigComplete, MtcFlag.SUBF_CONFIGURED);
    f |= on(p.goenabledPass, MtcFlag.MAIN_GOENABLED);
    if (existsSync(p.goenabledSubfPass) && !existsSync(p.goenabledSubfFailed)) f |= MtcFlag.SUBF_GOENABLED;
    f |= on(p.smDegraded, MtcFlag.SM_DEGRADED);
    f |= on(p.patchInstalling, MtcFlag.PATCHING);
    f |= on(p.nodeIsPatched, MtcFlag.PATCHED);
    if (results.luksFailed) f |= MtcFlag.LUKS_VOL_FAILED;
    this.smUnhealthyCount[network] = existsSync(p.smUnhealthy) ? this.smUnhealthyCount[network] + 1 : 0;
    if (this.smUnhealthyCount[network] >= SM_UNHEALTHY_DEBOUNCE) f |= MtcFlag.SM_UNHEALTHY;
    if (results.mainGoenableFail) f |= MtcFlag.MAIN_GOENABLE_FAIL;
    if (results.subfGoenableFail) f |= MtcFlag.SUBF_GOENABLE_FAIL;
    if (results.mainServicesFail) f |= MtcFlag.MAIN_SERVICES_FAIL;
    if (results.subfServicesFail) f |= MtcFlag.SUBF_SERVICES_FAIL;
    return f;
  }
}
