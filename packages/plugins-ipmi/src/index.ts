import type { BmcDriverFactory, MetalPluginModule, ServiceContainer } from "@metal/core/plugin-api";
import { PluginTokens } from "@metal/core/plugin-api";

/** Skeleton: the ipmi driver lands with the BMC plugins issue; until then it claims no capability. */
export const capabilities: MetalPluginModule["capabilities"] = { ipmi: [] };

const factory: BmcDriverFactory = {
  protocol: "ipmi",
  capabilities: [],
  create: () => ({ protocol: "ipmi", supports: () => false, close: async () => {} }),
};

export function register(container: ServiceContainer): void {
  container.resolve(PluginTokens.BmcRegistry).register(factory, "@metal/plugin-ipmi");
}
