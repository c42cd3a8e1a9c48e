export * from "./logger.js";
export * from "./rate-limited.js";
export * from "./state-writes.js";
