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
