import type { BmcDriverFactory, Clock, Logger } from "@metal/core/plugin-api";
import { REDFISH_CAPABILITIES, RedfishDriver } from "./driver.js";

/** The redfish protocol for the BMC registry; every driver gets its own client (and session). */
export function redfishFactory(deps: { clock: Clock; logger?: Logger }): BmcDriverFactory {
  return {
    protocol: "redfish",
    capabilities: REDFISH_CAPABILITIES,
    create: (target) => new RedfishDriver(target, deps.clock, deps.logger),
  };
}
