export * from "./ha-schema.js";
export * from "./load.js";
export * from "./paths.js";
export * from "./schema.js";
