import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BmcDriverFactory } from "../plugin-api/bmc.js";
import { isPluginError, type LoadedPlugin, type MetalPluginModule, PluginError, type PluginSettings } from "../plugin-api/plugin.js";
import type { ServiceContainer } from "../plugin-api/token.js";
import { SUPPORTED_PLUGIN_API_VERSIONS } from "../plugin-api/version.js";
import type { PluginCandidate } from "./discovery.js";
import { StagedContainer, type StagedRegistrations } from "./staged-registration.js";

/** Check the manifest before any plugin code runs: a wrong API version never gets imported. */
export function checkManifest(c: PluginCandidate): void {
  const { api, provides } = c.manifest;
  if (!Number.isInteger(api)) throw new PluginError(c.name, `"metal.plugin.api" must be an integer (supported: ${SUPPORTED_PLUGIN_API_VERSIONS.join(", ")})`);
  if (!SUPPORTED_PLUGIN_API_VERSIONS.includes(api)) {
    throw new PluginError(c.name, `declares plugin API ${api}, but this metal supports API ${SUPPORTED_PLUGIN_API_VERSIONS.join(", ")}; refused`);
  }
  if (provides.length === 0) throw new PluginError(c.name, `"metal.plugin.provides" is empty`);
}

function entryPoint(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    main?: string;
    exports?: string | Record<string, unknown>;
  };
  const dot = typeof pkg.exports === "string" ? pkg.exports : (pkg.exports?.["."] as string | { import?: string; default?: string } | undefined);
  const rel = typeof dot === "string" ? dot : (dot?.import ?? dot?.default ?? pkg.main ?? "index.js");
  return join(dir, rel);
}

export async function loadPlugin(c: PluginCandidate): Promise<LoadedPlugin> {
  checkManifest(c);
  let mod: Partial<MetalPluginModule>;
  try {
    mod = (await import(pathToFileURL(entryPoint(c.directory)).href)) as Partial<MetalPluginModule>;
  } catch (err) {
    throw new PluginError(c.name, `cannot be imported: ${(err as Error).message.split("\n")[0]} (is it built?)`);
  }
  if (typeof mod.register !== "function") throw new PluginError(c.name, "does not export register(container, settings)");
  const capabilities = mod.capabilities ?? {};
  for (const p of c.manifest.provides.filter((x) => x.startsWith("bmc:"))) {
    if (!capabilities[p.slice(4)]) throw new PluginError(c.name, `provides '${p}' but exports no capabilities for '${p.slice(4)}'`);
  }
  return {
    name: c.name,
    version: c.version,
    api: c.manifest.api,
    provides: c.manifest.provides,
    capabilities,
    source: c.source,
    directory: c.directory,
    module: mod as MetalPluginModule,
  };
}

/**
 * What a declaration needs registered: `bmc:P` a BMC driver factory for P, `personality:X` personality hooks;
 * any other kind (`bsp`, `guest`, ...) something in the container or a `cli()` contribution. Returns the
 * declarations left unmet.
 */
export function unmetDeclarations(plugin: LoadedPlugin, staged: StagedRegistrations): string[] {
  return plugin.provides.filter((p) => {
    if (p.startsWith("bmc:")) return !staged.bmcProtocols.includes(p.slice(4));
    if (p.startsWith("personality:")) return staged.personalities.length === 0;
    return staged.services.length === 0 && staged.bmcProtocols.length === 0 && staged.personalities.length === 0 && typeof plugin.module.cli !== "function";
  });
}

/**
 * Call `register` with a container that is only usable during the call (a plugin registers inside register()
 * and nowhere else), then check it registered everything it declares (unmetDeclarations). Only then is what it
 * registered applied, so a refused plugin leaves nothing behind. Throws a PluginError naming the plugin.
 */
export async function registerPlugin(
  plugin: LoadedPlugin,
  container: ServiceContainer,
  settings: PluginSettings,
  checkBmc: (factory: BmcDriverFactory, plugin: string) => void = () => {},
): Promise<void> {
  const stage = new StagedContainer(plugin.name, container, checkBmc);
  try {
    await plugin.module.register(stage.container, settings);
  } catch (err) {
    throw isPluginError(err) ? err : new PluginError(plugin.name, `register() failed: ${(err as Error)?.message ?? String(err)}`);
  } finally {
    stage.close();
  }
  const staged = stage.staged();
  const unmet = unmetDeclarations(plugin, staged);
  if (unmet.length) {
    const what = unmet.map((p) => (p.startsWith("bmc:") ? `'${p}' but registered no BMC driver factory for it` : `'${p}' but registered nothing for it`));
    throw new PluginError(plugin.name, `declares ${what.join("; ")}`);
  }
  stage.commit();
}
