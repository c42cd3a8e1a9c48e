import type { ServiceContainer } from "@metal/core/plugin-api";
import { guestCli } from "./cli.js";

export { GuestAgent } from "./agent/guest-agent.js";
export * from "./channel/framing.js";
export * from "./channel/messages.js";
export { GuestClient, type GuestClientOptions } from "./client/guest-client.js";
export { GuestServer } from "./server/guest-server.js";
export * from "./udp/codes.js";

/** The guest plugin's services are processes of their own (`metal guest-*`); it puts nothing in the container. */
export function register(_container: ServiceContainer): void {}

export const cli = guestCli;
