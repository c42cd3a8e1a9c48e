import type { ServiceContainer } from "@metal/core/plugin-api";

/** The BSP plugin contributes CLI commands (`metal bsp ...`); it has no container services yet. */
export function register(_container: ServiceContainer): void {}
