import { networkInterfaces } from "node:os";
import type { MetalConfig } from "../config/schema.js";
import type { NetworkName } from "./transport.js";

/**
 * Where the mtcAgent listens on a network: the controller's address there, else this node's own, else the
 * first IPv4 address of the network's configured interface. With nothing configured (`networks.mgmt: {}`)
 * the mgmt inbox listens on loopback (127.0.0.1), never on the wildcard: a socket binds only an address the
 * config names, so nothing off this machine reaches an unconfigured agent.
 */
export function agentAddress(config: MetalConfig, network: NetworkName): string | undefined {
  const n = config.networks[network];
  if (!n) return undefined;
  return n.controller ?? n.address ?? interfaceAddress(n.interface) ?? (network === "mgmt" ? "127.0.0.1" : undefined);
}

/** The first IPv4 address of an interface (the interface config of the reference), if it has one. */
export function interfaceAddress(name: string | undefined): string | undefined {
  if (!name) return undefined;
  return networkInterfaces()[name]?.find((a) => a.family === "IPv4")?.address;
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
