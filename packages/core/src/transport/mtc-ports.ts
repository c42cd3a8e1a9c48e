import type { MetalConfig } from "../config/schema.js";
import type { NetworkName } from "./transport.js";

/** Where the mtcAgent listens on a network: the controller's address there (else this node's own). */
export function agentAddress(config: MetalConfig, network: NetworkName): string | undefined {
  const n = config.networks[network];
  return n ? (n.controller ?? n.address ?? (network === "mgmt" ? "0.0.0.0" : undefined)) : undefined;
}

/** The mtcAgent's receive port per network (mgmt 2101, cluster-host 2101 unless overridden, pxeboot 2102). */
export function agentPort(config: MetalConfig, network: NetworkName): number {
  if (network === "pxeboot") return config.ports.agentPxeboot;
  if (network === "clusterHost") return config.messaging.agentClstrPort ?? config.ports.agentMgmt;
  return config.ports.agentMgmt;
}

/** The mtcClient's command port per network (mgmt 2118, cluster-host 2115, pxeboot 2119). */
export function clientPort(config: MetalConfig, network: NetworkName): number {
  return network === "mgmt" ? config.ports.clientMgmt : network === "clusterHost" ? config.ports.clientClstr : config.ports.clientPxeboot;
}
