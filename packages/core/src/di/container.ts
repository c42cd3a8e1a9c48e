import "reflect-metadata";
import { type DependencyContainer, container as rootContainer } from "tsyringe";
import { SystemClock } from "../clock/system-clock.js";
import { nodePaths } from "../config/paths.js";
import type { MetalConfig } from "../config/schema.js";
import { createLogger } from "../logging/logger.js";
import { builtinPersonalities } from "../personality/builtin.js";
import { DefaultPersonalityRegistry } from "../personality/registry.js";
import type { LoadedPlugin } from "../plugin-api/plugin.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import type { ServiceContainer, Token } from "../plugin-api/token.js";
import { PLUGIN_API_VERSION } from "../plugin-api/version.js";
import { FAKE_BMC_PLUGIN_NAME, FakeBmcFabric, fakeBmcPlugin } from "../testing/fake-bmc.js";
import { DefaultBmcRegistry } from "./bmc-registry.js";
import { discoverPlugins, discoveryOptionsFor } from "./discovery.js";
import { loadPlugin, registerPlugin } from "./loader.js";
import { Tokens } from "./tokens.js";

/** tsyringe's container seen through the small interface plugins get. */
export function asServiceContainer(c: DependencyContainer): ServiceContainer {
  const wrap = (inner: DependencyContainer): ServiceContainer => ({
    register: (tok, provider) =>
      "useValue" in provider
        ? inner.register(tok, { useValue: provider.useValue })
        : inner.register(tok, { useFactory: (dc) => provider.useFactory(wrap(dc)) }),
    resolve: <T>(tok: Token<T>) => inner.resolve<T>(tok),
    isRegistered: (tok, recursive) => inner.isRegistered(tok, recursive),
    createChildContainer: () => wrap(inner.createChildContainer()),
  });
  return wrap(c);
}

export interface ContainerOptions {
  config: MetalConfig;
  clock?: Clock;
  logger?: Logger;
  /** Already-loaded plugins; when absent they are discovered and loaded from the config. */
  plugins?: readonly LoadedPlugin[];
  /** The fake BMC fabric (lab and tests reach in to flip power, unplug the BMC, ...). */
  fakeBmc?: FakeBmcFabric;
  /**
   * Told about each plugin refused at registration (it registered less than it declares, or its register()
   * threw); the default logs one error line. A refused plugin leaves nothing registered and is not in
   * `Tokens.Plugins`.
   */
  onRefused?: (plugin: LoadedPlugin, err: Error) => void;
}

/** The built-in plugin that ships in core: the fake BMC every contract test and the lab use. */
export function builtinPlugins(fabric: FakeBmcFabric): LoadedPlugin[] {
  const module = fakeBmcPlugin(fabric);
  return [
    {
      name: FAKE_BMC_PLUGIN_NAME,
      version: "0.1.0",
      api: PLUGIN_API_VERSION,
      provides: ["bmc:fake"],
      capabilities: module.capabilities ?? {},
      source: "builtin",
      module,
    },
  ];
}

/** Discover and load the plugins the config asks for. Errors name the plugin; none is half-loaded. */
export async function loadConfiguredPlugins(config: MetalConfig, fabric = new FakeBmcFabric()): Promise<{ plugins: LoadedPlugin[]; errors: Error[] }> {
  const { candidates, problems } = discoverPlugins(discoveryOptionsFor(config.plugins));
  const plugins = builtinPlugins(fabric);
  const errors: Error[] = problems.map((p) => new Error(p));
  for (const c of candidates) {
    try {
      plugins.push(await loadPlugin(c));
    } catch (err) {
      errors.push(err as Error);
    }
  }
  return { plugins, errors };
}

/**
 * The one place the container is wired. Tests build their own with fakes by passing a clock, a logger
 * or plugins, or by registering over these tokens in a child container.
 */
export async function createMetalContainer(options: ContainerOptions): Promise<ServiceContainer> {
  const { config } = options;
  const c = asServiceContainer(rootContainer.createChildContainer());
  const fabric = options.fakeBmc ?? new FakeBmcFabric();
  c.register(Tokens.Config, { useValue: config });
  c.register(Tokens.Paths, { useValue: nodePaths(config.root) });
  c.register(Tokens.Clock, { useValue: options.clock ?? new SystemClock() });
  c.register(Tokens.Logger, { useValue: options.logger ?? createLogger({ level: config.logging.level, pretty: config.logging.pretty }) });
  const bmc = new DefaultBmcRegistry();
  c.register(Tokens.BmcRegistry, { useValue: bmc });
  c.register(Tokens.PersonalityRegistry, { useValue: new DefaultPersonalityRegistry(builtinPersonalities(config.timeouts)) });

  let plugins = options.plugins ? [...options.plugins] : undefined;
  if (!plugins) {
    const loaded = await loadConfiguredPlugins(config, fabric);
    for (const e of loaded.errors) c.resolve(Tokens.Logger).error({ err: e.message }, "plugin refused");
    plugins = loaded.plugins;
  }
  const registered: LoadedPlugin[] = [];
  c.register(Tokens.Plugins, { useValue: registered });
  const onRefused =
    options.onRefused ?? ((p: LoadedPlugin, err: Error) => c.resolve(Tokens.Logger).error({ plugin: p.name, err: err.message }, "plugin refused"));
  for (const p of plugins) {
    try {
      await registerPlugin(p, c, config.plugins.settings[p.name] ?? {}, (f, name) => bmc.check(f, name));
      registered.push(p);
    } catch (err) {
      onRefused(p, err as Error);
    }
  }
  return c;
}
