export * from "./file-store.js";
export * from "./host.js";
export * from "./memory-store.js";
export * from "./record-schema.js";
export * from "./store.js";
