export * from "./load.js";
export * from "./paths.js";
export * from "./schema.js";
