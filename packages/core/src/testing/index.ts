export * from "./bmc-conformance.js";
export * from "./fake-bmc.js";
export * from "./pty-pair.js";
export * from "./store-conformance.js";
