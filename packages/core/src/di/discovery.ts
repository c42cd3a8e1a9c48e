import { existsSync, readdirSync, readFileSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { PluginManifest } from "../plugin-api/plugin.js";

/** A package.json that carries a `metal.plugin` manifest, before its code is loaded. */
export interface PluginCandidate {
  name: string;
  version: string;
  directory: string;
  manifest: PluginManifest["plugin"];
  source: "workspace" | "node_modules" | "config";
}

interface PackageJson {
  name?: string;
  version?: string;
  metal?: { plugin?: { api?: unknown; provides?: unknown } };
}

function readPackage(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
  } catch {
    return undefined;
  }
}

function candidateAt(dir: string, source: PluginCandidate["source"]): PluginCandidate | undefined {
  const pkg = readPackage(dir);
  const plugin = pkg?.metal?.plugin;
  if (!pkg?.name || !plugin) return undefined;
  return {
    name: pkg.name,
    version: pkg.version ?? "0.0.0",
    directory: dir,
    source,
    manifest: {
      api: typeof plugin.api === "number" ? plugin.api : Number.NaN,
      provides: Array.isArray(plugin.provides) ? plugin.provides.filter((p): p is string => typeof p === "string") : [],
    },
  };
}

/** The repository root: the nearest directory upward holding pnpm-workspace.yaml. */
export function findWorkspaceRoot(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = resolve(from);
  for (let i = 0; i < 30; i++) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.isSymbolicLink())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** Packages in node_modules (including @scope/name) that declare a metal plugin. */
function scanNodeModules(nodeModules: string): PluginCandidate[] {
  const found: PluginCandidate[] = [];
  for (const entry of listDirs(nodeModules)) {
    const base = entry.slice(nodeModules.length + 1);
    if (base.startsWith(".")) continue;
    const dirs = base.startsWith("@") ? listDirs(entry) : [entry];
    for (const d of dirs) {
      const c = candidateAt(d, "node_modules");
      if (c) found.push(c);
    }
  }
  return found;
}

export interface DiscoveryOptions {
  /** Scan the workspace's packages/ and node_modules folders. */
  discover: boolean;
  /** Package names or directories (relative to `cwd`) named in config. */
  explicit: readonly string[];
  /** Directories a package name is resolved from first (node_modules there and in their parents), e.g. the config file's. */
  paths?: readonly string[];
  cwd?: string;
  workspaceRoot?: string;
  /** NODE_PATH-style list of extra module directories (default: $NODE_PATH). */
  nodePath?: string;
}

/**
 * Where a package named in config can live, in order: `node_modules/NAME` in each of `paths` and its parents (as
 * node resolves), then from `cwd` upward, then each NODE_PATH entry (`ENTRY/NAME`), then the workspace's
 * node_modules. So a plugin installed next to the config file, or anywhere NODE_PATH points, is found outside the
 * workspace.
 */
export function packageDirsFor(name: string, options: DiscoveryOptions): string[] {
  const dirs: string[] = [];
  const upward = (from: string) => {
    let dir = resolve(from);
    for (let i = 0; i < 40; i++) {
      dirs.push(join(dir, "node_modules", name));
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  };
  for (const p of options.paths ?? []) upward(p);
  upward(options.cwd ?? process.cwd());
  for (const entry of (options.nodePath ?? process.env.NODE_PATH ?? "").split(delimiter)) if (entry) dirs.push(join(resolve(entry), name));
  if (options.workspaceRoot) dirs.push(join(options.workspaceRoot, "node_modules", name));
  return [...new Set(dirs)];
}

/** The discovery options a config asks for: its plugins block, and the workspace this metal runs from. */
export function discoveryOptionsFor(plugins: { discover: boolean; load: readonly string[]; paths: readonly string[] }): DiscoveryOptions {
  const root = findWorkspaceRoot();
  return { discover: plugins.discover, explicit: plugins.load, paths: plugins.paths, ...(root ? { workspaceRoot: root } : {}) };
}

/** Find plugin packages; the first place a name is found wins (explicit, then workspace, then node_modules). */
export function discoverPlugins(options: DiscoveryOptions): { candidates: PluginCandidate[]; problems: string[] } {
  const cwd = options.cwd ?? process.cwd();
  const byName = new Map<string, PluginCandidate>();
  const problems: string[] = [];
  const add = (c: PluginCandidate) => {
    if (!byName.has(c.name)) byName.set(c.name, c);
  };

  for (const ref of options.explicit) {
    const asDir = isAbsolute(ref) || ref.startsWith(".") ? resolve(cwd, ref) : undefined;
    const dirs = asDir ? [asDir] : packageDirsFor(ref, { ...options, cwd });
    const dir = dirs.find((d) => existsSync(join(d, "package.json")));
    const c = dir ? candidateAt(dir, "config") : undefined;
    if (c) add(c);
    else if (dir) problems.push(`plugin ${ref}: ${join(dir, "package.json")} has no "metal.plugin" field`);
    else
      problems.push(
        `plugin ${ref}: not found (looked in ${asDir ?? "node_modules next to the config file and its parents, the current directory's, NODE_PATH and the workspace's"})`,
      );
  }

  if (options.discover) {
    const root = options.workspaceRoot ?? findWorkspaceRoot();
    if (root) {
      for (const dir of listDirs(join(root, "packages"))) {
        const c = candidateAt(dir, "workspace");
        if (c) add(c);
      }
      for (const c of scanNodeModules(join(root, "node_modules"))) add(c);
    }
    for (const c of scanNodeModules(join(cwd, "node_modules"))) add(c);
  }
  return { candidates: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), problems };
}
