// @ts-check
/**
 * The plugin's entry point: what metal imports. Loading it has no side effects; everything is registered inside
 * register(). `capabilities` lets `metal plugins` list what the protocol can do without creating a driver.
 */
import { PluginTokens } from "@metal/core/plugin-api";
import { ACME_CAPABILITIES, acmeDriver } from "./driver.js";

export const capabilities = { acme: ACME_CAPABILITIES };

/** @type {import("@metal/core/plugin-api").BmcDriverFactory} */
const factory = { protocol: "acme", capabilities: ACME_CAPABILITIES, create: acmeDriver };

/**
 * @param {import("@metal/core/plugin-api").ServiceContainer} container
 * @param {Readonly<Record<string, unknown>>} _settings plugins.settings["metal-bmc-acme"] from the metal config
 */
export function register(container, _settings) {
  container.resolve(PluginTokens.BmcRegistry).register(factory, "metal-bmc-acme");
}
