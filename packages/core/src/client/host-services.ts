import type { NodePaths } from "../config/paths.js";
import type { ServiceFunction, SystemType } from "../plugin-api/personality.js";
import type { Logger } from "../plugin-api/services.js";
import { runScripts } from "./script-runner.js";

export interface HostServicesResult {
  rc: number;
  /** "pass", or text containing "failed" or "timeout" (the agent maps those to FAIL_OPERATION / FAIL_TIMEOUT). */
  text: string;
}

const ALL: readonly ServiceFunction[] = ["controller", "worker", "storage"];

/**
 * Host services (reference §8, run_hostservices_scripts): every script in `/etc/services.d/<function>`, in
 * parallel, `<script> start|stop both`, bounded by the host-services timeout. On systems other than standard,
 * a stop also runs the other functions' stop scripts.
 */
export class HostServicesRunner {
  constructor(
    private readonly paths: NodePaths,
    private readonly log: Logger,
    private readonly timeoutMs: number,
    private readonly systemType: SystemType,
  ) {}

  async run(fn: ServiceFunction, action: "start" | "stop"): Promise<HostServicesResult> {
    const fns = action === "stop" && this.systemType !== "standard" ? [fn, ...ALL.filter((f) => f !== fn)] : [fn];
    for (const f of fns) {
      const r = await runScripts(this.paths.servicesDir(f), [action, "both"], this.timeoutMs);
      if (r.failure !== undefined) {
        const text = r.failure.endsWith("(timeout)") ? `${f} ${action} ${r.failure}` : `${f} ${action} failed: ${r.failure}`;
        this.log.warn({ function: f, action, failure: r.failure }, "host services failed");
        return { rc: 1, text };
      }
    }
    this.log.info({ functions: fns, action }, "host services done");
    return { rc: 0, text: "pass" };
  }
}
