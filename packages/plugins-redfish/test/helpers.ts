import { SystemClock } from "@metal/core/clock/index";
import { secretFromString } from "@metal/core/di/secret";
import type { BmcTarget, Clock } from "@metal/core/plugin-api";
import { RedfishDriver } from "../src/driver.js";
import type { EmulatorProfileInput } from "../src/emulator/profile.js";
import { RedfishEmulator } from "../src/emulator/server.js";

export interface Running {
  emulator: RedfishEmulator;
  port: number;
  target(password?: string, options?: BmcTarget["options"]): BmcTarget;
  driver(password?: string, options?: BmcTarget["options"], clock?: Clock): RedfishDriver;
}

/** An emulator on a free loopback port, with fast polling so tests do not wait on real-BMC timings. */
export async function startEmulator(profile: EmulatorProfileInput = {}): Promise<Running> {
  const emulator = new RedfishEmulator(profile);
  const { port } = await emulator.listen({ port: 0 });
  const target = (password = emulator.profile.password, options: BmcTarget["options"] = {}): BmcTarget => ({
    host: "worker-0",
    address: "127.0.0.1",
    port,
    username: emulator.profile.username,
    password: secretFromString(password),
    timeoutMs: 5_000,
    options: { scheme: "http", pollMs: 50, powerVerifyMs: 3_000, backoffMs: 50, ...options },
  });
  return {
    emulator,
    port,
    target,
    driver: (password, options, clock = new SystemClock()) => new RedfishDriver(target(password, options), clock),
  };
}
