export * from "./bmc-registry.js";
export * from "./container.js";
export * from "./discovery.js";
export * from "./loader.js";
export * from "./secret.js";
export * from "./tokens.js";
