import type { CliContribution, ServiceContainer } from "@metal/core/plugin-api";
import type { Command } from "commander";
import { bspCommand } from "./cli/bsp.js";

/** The BSP plugin registers no container services: its work is the `metal bsp ...` commands. */
export function register(_container: ServiceContainer): void {}

export const cli: CliContribution = (program) => bspCommand(program as Command);

export * from "./dnsmasq/config.js";
export * from "./hosts/host-list.js";
export * from "./hosts/mac.js";
export * from "./hosts/traits.js";
export * from "./pxeboot/append-options.js";
export * from "./pxeboot/fallback.js";
export * from "./pxeboot/generate.js";
export * from "./pxeboot/templates.js";
