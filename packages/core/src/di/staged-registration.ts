import type { BmcCapability, BmcDriverFactory, BmcRegistry, BmcTarget } from "../plugin-api/bmc.js";
import type { HostProfile, PersonalityHooks, PersonalityRegistry } from "../plugin-api/personality.js";
import { PluginError } from "../plugin-api/plugin.js";
import type { ServiceContainer, Token } from "../plugin-api/token.js";
import { PluginTokens } from "../plugin-api/tokens.js";

type Provider<T> = { useValue: T } | { useFactory: (c: ServiceContainer) => T };

/** What one plugin's register() call produced, before it is applied to the real container. */
export interface StagedRegistrations {
  readonly services: ReadonlyArray<{ token: Token<unknown>; provider: Provider<unknown> }>;
  readonly bmcProtocols: readonly string[];
  readonly personalities: readonly string[];
}

/**
 * A container for one plugin's register() call that applies nothing until `commit()`: service registrations,
 * BMC driver factories and personality hooks are kept aside, so a plugin refused after its register() ran (it
 * registered less than it declared) leaves nothing half-loaded. Usable only until register() returns
 * (`close()`); the registries it hands out keep working afterwards (they then act on the real ones), since a
 * plugin may hold on to them (the dynamic BMC factory looks protocols up later).
 */
export class StagedContainer {
  private open = true;
  private committed = false;
  private readonly services: Array<{ token: Token<unknown>; provider: Provider<unknown> }> = [];
  private readonly factories: Array<{ factory: BmcDriverFactory; as: string }> = [];
  private readonly hooks: PersonalityHooks[] = [];

  constructor(
    private readonly plugin: string,
    private readonly real: ServiceContainer,
    private readonly checkBmc: (factory: BmcDriverFactory, plugin: string) => void,
  ) {}

  /** The container the plugin's register() receives. */
  readonly container: ServiceContainer = {
    register: (tok, provider) => {
      if (!this.open) throw new PluginError(this.plugin, "registered a service after register() returned");
      this.services.push({ token: tok, provider: provider as Provider<unknown> });
      return undefined;
    },
    resolve: <T>(tok: Token<T>): T => {
      if (tok === PluginTokens.BmcRegistry) return this.bmcRegistry as T;
      if (tok === PluginTokens.PersonalityRegistry) return this.personalityRegistry as T;
      const own = this.committed ? undefined : [...this.services].reverse().find((s) => s.token === tok);
      if (own) return ("useValue" in own.provider ? own.provider.useValue : own.provider.useFactory(this.container)) as T;
      return this.real.resolve(tok);
    },
    isRegistered: (tok, recursive) => (!this.committed && this.services.some((s) => s.token === tok)) || this.real.isRegistered(tok, recursive),
    createChildContainer: () => this.real.createChildContainer(),
  };

  private stagedFactory(protocol: string): BmcDriverFactory | undefined {
    return this.committed ? undefined : this.factories.find((f) => f.factory.protocol === protocol)?.factory;
  }

  private realBmc(): BmcRegistry {
    return this.real.resolve(PluginTokens.BmcRegistry);
  }

  private readonly bmcRegistry: BmcRegistry = {
    register: (factory, pluginName) => {
      if (this.committed) return this.realBmc().register(factory, pluginName);
      if (!this.open) throw new PluginError(this.plugin, "registered a BMC driver factory after register() returned");
      this.checkBmc(factory, pluginName);
      if (this.factories.some((f) => f.factory.protocol === factory.protocol))
        throw new PluginError(pluginName, `registered BMC protocol '${factory.protocol}' twice`);
      this.factories.push({ factory, as: pluginName });
    },
    has: (protocol) => this.stagedFactory(protocol) !== undefined || this.realBmc().has(protocol),
    get: (protocol) => this.stagedFactory(protocol) ?? this.realBmc().get(protocol),
    list: () => [
      ...this.factories.map((f) => ({ protocol: f.factory.protocol, plugin: f.as, capabilities: f.factory.capabilities })),
      ...this.realBmc().list(),
    ],
    connect: (protocol: string, target: BmcTarget, required?: readonly BmcCapability[]) => {
      const staged = this.stagedFactory(protocol);
      return staged ? staged.create(target) : this.realBmc().connect(protocol, target, required);
    },
  };

  private readonly personalityRegistry: PersonalityRegistry = {
    register: (hooks, pluginName) => {
      if (this.committed) return this.real.resolve(PluginTokens.PersonalityRegistry).register(hooks, pluginName);
      if (!this.open) throw new PluginError(this.plugin, "registered personality hooks after register() returned");
      this.hooks.push(hooks);
    },
    forHost: (host: HostProfile) => this.hooks.find((h) => h.matches(host)) ?? this.real.resolve(PluginTokens.PersonalityRegistry).forHost(host),
    list: () => [...this.hooks.map((h) => ({ name: h.name, plugin: this.plugin })), ...this.real.resolve(PluginTokens.PersonalityRegistry).list()],
  };

  /** register() returned: later calls on the container are refused. */
  close(): void {
    this.open = false;
  }

  staged(): StagedRegistrations {
    return { services: [...this.services], bmcProtocols: this.factories.map((f) => f.factory.protocol), personalities: this.hooks.map((h) => h.name) };
  }

  /** Apply everything to the real container and registries; from now on the staged registries act on the real ones. */
  commit(): void {
    for (const s of this.services) this.real.register(s.token, s.provider);
    for (const f of this.factories) this.realBmc().register(f.factory, f.as);
    const personalities = this.real.resolve(PluginTokens.PersonalityRegistry);
    for (const h of this.hooks) personalities.register(h, this.plugin);
    this.committed = true;
  }
}
