export * from "./system-clock.js";
export * from "./virtual-clock.js";
