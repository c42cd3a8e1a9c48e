/** Plugin contract v1: types and tokens only. */
export * from "./bmc.js";
export * from "./personality.js";
export * from "./plugin.js";
export * from "./secret.js";
export * from "./services.js";
export * from "./token.js";
export * from "./tokens.js";
export * from "./version.js";
