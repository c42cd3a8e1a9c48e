import type { BmcDriverFactory, MetalPluginModule, ServiceContainer } from "@metal/core/plugin-api";
import { PluginTokens } from "@metal/core/plugin-api";

/** Skeleton: the redfish driver lands with the BMC plugins issue; until then it claims no capability. */
export const capabilities: MetalPluginModule["capabilities"] = { redfish: [] };

const factory: BmcDriverFactory = {
  protocol: "redfish",
  capabilities: [],
  create: () => ({ protocol: "redfish", supports: () => false, close: async () => {} }),
};

export function register(container: ServiceContainer): void {
  container.resolve(PluginTokens.BmcRegistry).register(factory, "@metal/plugin-redfish");
}
