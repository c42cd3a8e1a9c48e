import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type LoadedPlugin, type MetalPluginModule, PluginError, type PluginSettings } from "../plugin-api/plugin.js";
import type { ServiceContainer } from "../plugin-api/token.js";
import { SUPPORTED_PLUGIN_API_VERSIONS } from "../plugin-api/version.js";
import type { PluginCandidate } from "./discovery.js";

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
 * Call `register` with a container that is only usable during the call: a plugin registers inside
 * register() and nowhere else. It must also deliver every BMC protocol it declares.
 */
export async function registerPlugin(
  plugin: LoadedPlugin,
  container: ServiceContainer,
  settings: PluginSettings,
  bmcProtocols: () => readonly string[],
): Promise<void> {
  let open = true;
  const guarded: ServiceContainer = {
    register: (tok, provider) => {
      if (!open) throw new PluginError(plugin.name, "registered a service after register() returned");
      return container.register(tok, provider);
    },
    resolve: (tok) => container.resolve(tok),
    isRegistered: (tok, recursive) => container.isRegistered(tok, recursive),
    createChildContainer: () => container.createChildContainer(),
  };
  try {
    await plugin.module.register(guarded, settings);
  } catch (err) {
    throw err instanceof PluginError ? err : new PluginError(plugin.name, `register() failed: ${(err as Error).message}`);
  } finally {
    open = false;
  }
  const have = bmcProtocols();
  for (const p of plugin.provides.filter((x) => x.startsWith("bmc:"))) {
    if (!have.includes(p.slice(4))) throw new PluginError(plugin.name, `declares '${p}' but registered no BMC driver factory for it`);
  }
}
