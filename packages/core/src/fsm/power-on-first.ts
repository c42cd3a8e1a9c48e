import { powerSet } from "./bmc-power.js";
import { SEC } from "./common.js";
import { goto, type StageDef, type Step, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { powerStatusStages } from "./stages.js";

type Next = ReadonlyArray<readonly [string, string?]>;

/**
 * Ask the BMC for the power state before trying to reach a host, and power an off host on at once (reference §2.4
 * enable, §2.6 recovery POWER_QUERY → POWER_ON, §2.11): a powered-off server answers no reboot request and a BMC reset
 * does not start it, so waiting out five reboots and `bmc_reset_delay` first only loses minutes. Stages POWER_STATUS,
 * POWER_STATUS_WAIT (shared), POWER_ON, POWER_ON_WAIT. `on` is where a host that is on (or a BMC that does not answer)
 * goes; `poweredOn` where a host goes once the power-on request was accepted (it is booting: `powerOnAt` is set).
 */
export function powerOnFirstStages(o: { on(c: HostCtx): Step; poweredOn(c: HostCtx): Step; next: Next }): StageDef<HostCtx>[] {
  return [
    ...powerStatusStages({
      decide: (c, state) => (state === "off" ? goto("POWER_ON") : o.on(c)),
      unreachable: "POWER_STATUS_UNREACHABLE",
      next: [["POWER_ON", "powered off"], ["POWER_STATUS_UNREACHABLE", "BMC error"], ...o.next],
    }),
    {
      name: "POWER_STATUS_UNREACHABLE",
      run: (c) => {
        c.env.log.warn({ host: c.name }, "BMC power state unknown; trying the host itself");
        return o.on(c);
      },
      next: o.next,
    },
    {
      name: "POWER_ON",
      run: (c) => {
        c.env.log.info({ host: c.name }, "host is powered off; powering it on");
        c.setTask("Powering On");
        c.launch("poweron", () => powerSet(c, "on"));
        return goto("POWER_ON_WAIT");
      },
      next: [["POWER_ON_WAIT"]],
    },
    {
      name: "POWER_ON_WAIT",
      timeoutMs: () => 30 * SEC,
      run: (c) => {
        const r = c.outcome("poweron");
        if (!r || r.state === "pending") return stay;
        if (r.state === "fail") {
          c.env.log.warn({ host: c.name, err: r.error }, "power-on request failed");
          return o.on(c);
        }
        c.power = "on";
        c.powerOnAt = c.now();
        c.setTask("Booting");
        return o.poweredOn(c);
      },
      onTimeout: (c) => o.on(c),
      next: o.next,
    },
  ];
}
