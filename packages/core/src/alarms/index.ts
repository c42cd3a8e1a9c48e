export * from "./alarm-manager.js";
export * from "./catalog.js";
export * from "./history-sink.js";
export * from "./log-sink.js";
export * from "./manager.js";
export * from "./sink.js";
export * from "./snmp-sink.js";
