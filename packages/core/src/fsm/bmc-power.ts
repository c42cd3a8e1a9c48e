import type { PowerAction, PowerState } from "../plugin-api/bmc.js";
import type { HostCtx } from "./host-context.js";

/** BMC calls the handlers launch; every one goes through the plugin contract (BmcRegistry driver). */
export function powerStatus(c: HostCtx): Promise<PowerState> {
  const p = c.bmc()?.power;
  if (!p) return Promise.reject(new Error("BMC is not provisioned"));
  return p.status().then((s) => {
    c.power = s;
    c.bmcAccessible = true;
    return s;
  }, markInaccessible(c));
}

export function powerSet(c: HostCtx, action: PowerAction): Promise<void> {
  const p = c.bmc()?.power;
  if (!p) return Promise.reject(new Error("BMC is not provisioned"));
  return p.set(action).then(() => {
    c.bmcAccessible = true;
  }, markInaccessible(c));
}

function markInaccessible(c: HostCtx) {
  return (err: unknown): never => {
    c.bmcAccessible = false;
    throw err;
  };
}
