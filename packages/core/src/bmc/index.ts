export * from "./access-monitor.js";
export * from "./broker.js";
export * from "./broker-pool.js";
export * from "./console-follow.js";
export * from "./dynamic.js";
export * from "./event-feed.js";
export * from "./learn.js";
export * from "./serial-console.js";
