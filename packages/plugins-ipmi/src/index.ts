import type { BmcDriverFactory, Clock, MetalPluginModule, ServiceContainer } from "@metal/core/plugin-api";
import { PluginTokens } from "@metal/core/plugin-api";
import { IPMI_CAPABILITIES, IpmiDriver } from "./driver.js";

export { IPMI_CAPABILITIES, IpmiDriver } from "./driver.js";
export { Ipmitool, type IpmitoolOptions, ipmitoolOptions } from "./ipmitool.js";
export { BmcLane } from "./lane.js";
export { ipmiStatus, parseInfo, parseLabels, parsePowerStatus, parseSensorList } from "./parse.js";

export const capabilities: MetalPluginModule["capabilities"] = { ipmi: IPMI_CAPABILITIES };

export function ipmiFactory(deps: { clock: Clock }): BmcDriverFactory {
  return { protocol: "ipmi", capabilities: IPMI_CAPABILITIES, create: (target) => new IpmiDriver(target, deps.clock) };
}

export function register(container: ServiceContainer): void {
  container.resolve(PluginTokens.BmcRegistry).register(ipmiFactory({ clock: container.resolve(PluginTokens.Clock) }), "@metal/plugin-ipmi");
}
