export * from "./builtin.js";
export * from "./registry.js";
