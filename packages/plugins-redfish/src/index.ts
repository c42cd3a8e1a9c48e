import { DYNAMIC_CAPABILITIES, dynamicBmcFactory } from "@metal/core/bmc/dynamic";
import type { CliContribution, MetalPluginModule, ServiceContainer } from "@metal/core/plugin-api";
import { PluginTokens } from "@metal/core/plugin-api";
import type { Command } from "commander";
import { REDFISH_CAPABILITIES } from "./driver.js";
import { redfishEmulatorCommand } from "./emulator-command.js";
import { redfishFactory } from "./factory.js";

export { type AuthMode, RedfishClient, type RedfishClientOptions } from "./client/redfish-client.js";
export { REDFISH_CAPABILITIES, RedfishDriver, redfishBaseUrl } from "./driver.js";
export { EmulatedMachine } from "./emulator/machine.js";
export {
  DEFAULT_FAULTS,
  defaultProfile,
  type EmulatorFaults,
  type EmulatorProfile,
  type EmulatorProfileInput,
  type EmulatorQuirks,
  loadProfile,
} from "./emulator/profile.js";
export { type EmulatorListenOptions, RedfishEmulator } from "./emulator/server.js";
export { redfishFactory } from "./factory.js";

export const capabilities: MetalPluginModule["capabilities"] = { redfish: REDFISH_CAPABILITIES, dynamic: DYNAMIC_CAPABILITIES };

export function register(container: ServiceContainer): void {
  const clock = container.resolve(PluginTokens.Clock);
  const logger = container.isRegistered(PluginTokens.Logger) ? container.resolve(PluginTokens.Logger) : undefined;
  const registry = container.resolve(PluginTokens.BmcRegistry);
  registry.register(redfishFactory({ clock, ...(logger ? { logger } : {}) }), "@metal/plugin-redfish");
  // bm_type dynamic: learning starts with the Redfish service root, so this plugin provides it; an IPMI
  // answer is delegated to whichever plugin provides ipmi in the same registry.
  registry.register(dynamicBmcFactory(registry), "@metal/plugin-redfish");
}

/** `metal redfish-emulator ...` */
export const cli: CliContribution = (program) => redfishEmulatorCommand(program as Command);
