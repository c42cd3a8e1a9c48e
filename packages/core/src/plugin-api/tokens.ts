import type { BmcRegistry } from "./bmc.js";
import type { PersonalityRegistry } from "./personality.js";
import type { Clock, Logger } from "./services.js";
import { token } from "./token.js";

/**
 * Tokens a plugin may resolve or register against. Core-only services (inventory, transport,
 * alarm manager, node actions) have their tokens in `di/tokens.ts`.
 */
export const PluginTokens = {
  Clock: token<Clock>("clock"),
  Logger: token<Logger>("logger"),
  BmcRegistry: token<BmcRegistry>("bmc-registry"),
  PersonalityRegistry: token<PersonalityRegistry>("personality-registry"),
} as const;
