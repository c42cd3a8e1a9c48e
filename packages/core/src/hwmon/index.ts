export * from "./actions.js";
export * from "./debounce.js";
export * from "./groups.js";
export * from "./monitor.js";
export * from "./settings.js";
export * from "./severity.js";
