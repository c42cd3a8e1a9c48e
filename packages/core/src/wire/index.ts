export * from "./mtc-codes.js";
export * from "./mtc-message.js";
