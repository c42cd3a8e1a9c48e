import { SystemClock } from "@metal/core/clock/index";
import { secretFromString } from "@metal/core/di/secret";
import type { BmcTarget } from "@metal/core/plugin-api";
import { IpmiDriver } from "../src/driver.js";
import type { IpmiSim } from "../src/testing/ipmi-sim.js";

/** A target for a running ipmi_sim with tight bounds, so failure tests stay short. */
export function simTarget(sim: IpmiSim, password = sim.password, options: BmcTarget["options"] = {}, timeoutMs = 10_000): BmcTarget {
  return {
    host: "worker-0",
    address: "127.0.0.1",
    port: sim.port,
    username: sim.username,
    password: secretFromString(password),
    timeoutMs,
    options: { minIntervalMs: 0, backoffMs: 100, ...options },
  };
}

export function simDriver(sim: IpmiSim, password?: string, options?: BmcTarget["options"], timeoutMs?: number): IpmiDriver {
  return new IpmiDriver(simTarget(sim, password, options, timeoutMs), new SystemClock());
}
