export * from "./authenticated.js";
export * from "./cluster-vault.js";
export * from "./hbs-pulse.js";
export * from "./mtc-alive.js";
export * from "./mtc-codes.js";
export * from "./mtc-flags.js";
export * from "./mtc-mac.js";
export * from "./mtc-message.js";
