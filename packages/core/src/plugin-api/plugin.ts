import type { ServiceContainer } from "./token.js";

/** What a plugin package declares under `"metal"` in its package.json. */
export interface PluginManifest {
  readonly plugin: {
    readonly api: number;
    /** e.g. ["bmc:ipmi"], ["bsp"], ["guest"], ["personality:edge"] */
    readonly provides: readonly string[];
  };
}

/** The part of the config a plugin sees: its own settings block, if any. */
export type PluginSettings = Readonly<Record<string, unknown>>;

/**
 * A CLI contribution. The argument is a commander `Command`; typed loosely here so that
 * the contract does not force a commander version on plugins.
 */
export type CliContribution = (program: unknown, context: { container: ServiceContainer }) => void;

/**
 * The module a plugin package exports. `register` is the only place a plugin may touch the container;
 * loading the module must have no side effects.
 */
export interface MetalPluginModule {
  register(container: ServiceContainer, settings: PluginSettings): void | Promise<void>;
  /** Sub-commands this plugin adds to `metal` (e.g. `metal bsp ...`). */
  cli?: CliContribution;
  /** BMC capabilities per provided protocol, for `metal plugins` without creating a driver. */
  capabilities?: Readonly<Record<string, readonly string[]>>;
}

/** A plugin as the core knows it after discovery and loading. */
export interface LoadedPlugin {
  readonly name: string;
  readonly version: string;
  readonly api: number;
  readonly provides: readonly string[];
  readonly capabilities: Readonly<Record<string, readonly string[]>>;
  readonly source: "builtin" | "workspace" | "node_modules" | "config";
  readonly directory?: string;
  readonly module: MetalPluginModule;
}

/** The stable code of every PluginError (recognise it with isPluginError, never instanceof). */
export const PLUGIN_ERROR_CODE = "plugin";

/** A plugin refused or failed: the message names the plugin. `code` is always PLUGIN_ERROR_CODE. */
export class PluginError extends Error {
  override readonly name = "PluginError";
  readonly code = PLUGIN_ERROR_CODE;
  constructor(
    readonly plugin: string,
    message: string,
  ) {
    super(`plugin ${plugin}: ${message}`);
  }
}

/** True for a PluginError from any copy of `@metal/core` (by its code and plugin name, not its class). */
export function isPluginError(err: unknown): err is PluginError {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; plugin?: unknown };
  return e.code === PLUGIN_ERROR_CODE && typeof e.plugin === "string";
}
