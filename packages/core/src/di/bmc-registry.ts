import { BMC_CAPABILITIES, type BmcCapability, type BmcDriver, type BmcDriverFactory, type BmcRegistry, type BmcTarget } from "../plugin-api/bmc.js";
import { PluginError } from "../plugin-api/plugin.js";

/** Protocol name → factory, remembering which plugin provided it so errors can name it. */
export class DefaultBmcRegistry implements BmcRegistry {
  private readonly factories = new Map<string, { factory: BmcDriverFactory; plugin: string }>();

  /** Throws the PluginError register() would throw (unknown capabilities, a protocol already provided). */
  check(factory: BmcDriverFactory, pluginName: string): void {
    const unknown = factory.capabilities.filter((c) => !(BMC_CAPABILITIES as readonly string[]).includes(c));
    if (unknown.length) throw new PluginError(pluginName, `declares unknown BMC capabilities: ${unknown.join(", ")}`);
    const existing = this.factories.get(factory.protocol);
    if (existing) {
      throw new PluginError(pluginName, `BMC protocol '${factory.protocol}' is already provided by ${existing.plugin}`);
    }
  }

  register(factory: BmcDriverFactory, pluginName: string): void {
    this.check(factory, pluginName);
    this.factories.set(factory.protocol, { factory, plugin: pluginName });
  }

  has(protocol: string): boolean {
    return this.factories.has(protocol);
  }

  get(protocol: string): BmcDriverFactory {
    const entry = this.factories.get(protocol);
    if (!entry) {
      const known = [...this.factories.keys()].join(", ") || "none";
      throw new Error(`no plugin provides BMC protocol '${protocol}' (loaded: ${known})`);
    }
    return entry.factory;
  }

  list() {
    return [...this.factories.entries()].map(([protocol, e]) => ({
      protocol,
      plugin: e.plugin,
      capabilities: e.factory.capabilities,
    }));
  }

  connect(protocol: string, target: BmcTarget, required: readonly BmcCapability[] = []): BmcDriver {
    const entry = this.factories.get(protocol);
    if (!entry) this.get(protocol);
    const { factory, plugin } = entry as { factory: BmcDriverFactory; plugin: string };
    const missing = required.filter((c) => !factory.capabilities.includes(c));
    if (missing.length) {
      throw new PluginError(plugin, `BMC protocol '${protocol}' lacks capability ${missing.map((c) => `'${c}'`).join(", ")}`);
    }
    return factory.create(target);
  }
}

/** Guard for call sites: throws a clear error naming the driver when a capability is absent. */
export function requireCapability<K extends BmcCapability>(driver: BmcDriver, cap: K): NonNullable<BmcDriver[K]> {
  const member = driver[cap];
  if (!driver.supports(cap) || !member) {
    throw new Error(`BMC protocol '${driver.protocol}' does not support '${cap}'`);
  }
  return member as NonNullable<BmcDriver[K]>;
}
