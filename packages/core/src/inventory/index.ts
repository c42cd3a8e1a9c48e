export * from "./file-store.js";
export * from "./host.js";
export type { HostRecord, InventoryStore } from "./store.js";
