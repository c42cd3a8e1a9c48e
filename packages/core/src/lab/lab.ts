/**
 * Lab addressing. The lab itself is `maintenance-lab.ts`: controller-0's mtcAgent (with the agent messaging
 * of agent/messaging.ts) in the lab process, every simulated host a real process running mtcClient and
 * hbsClient on its own loopback address.
 */

/** Simulated host i gets 127.0.1.(i+1): its own loopback address, as a real host has its own mgmt IP. */
export function simHostAddress(i: number): string {
  if (i < 0 || i > 253) throw new RangeError("the lab supports 1..254 hosts");
  return `127.0.1.${i + 1}`;
}

/**
 * The lab's networks on loopback: a host's mgmt address is simHostAddress(i) (127.0.1.x), its cluster-host address
 * 127.0.2.x and its pxeboot address 127.0.3.x; controller-0's control plane listens on 127.0.0.1 (mgmt), 127.0.0.2
 * (cluster-host) and 127.0.0.3 (pxeboot), as a controller's floating addresses.
 */
export const LAB_CONTROLLER_ADDRESS = { mgmt: "127.0.0.1", clusterHost: "127.0.0.2", pxeboot: "127.0.0.3" } as const;

/** Host i's address on `network` (see LAB_CONTROLLER_ADDRESS). */
export function simNetworkAddress(network: "mgmt" | "clusterHost" | "pxeboot", i: number): string {
  const mgmt = simHostAddress(i);
  return network === "mgmt" ? mgmt : mgmt.replace(/^127\.0\.1\./, network === "clusterHost" ? "127.0.2." : "127.0.3.");
}
