import type { ServiceContainer } from "@metal/core/plugin-api";

/** The guest plugin contributes guest-server, guest-agent and guest-client; it has no container services yet. */
export function register(_container: ServiceContainer): void {}
