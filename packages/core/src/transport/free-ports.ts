import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";

/** Where the kernel starts handing out ports for bind(0) (net.ipv4.ip_local_port_range; Linux's default 32768). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 ? low : 32768;
  } catch {
    return 32768;
  }
}

/** The lowest port handed out here: above the reference's fixed ports (2100-2300) and common services. */
const LOW = 10_000;
const MAX_TRIES = 500;

function bindUdp(port: number, address: string): Promise<Socket | undefined> {
  const s = createSocket("udp4");
  return new Promise((resolve) => {
    s.once("error", () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, address, () => resolve(s));
  });
}

/**
 * `n` distinct UDP ports free on `address`, released again so they can go into a config (tests, the lab). They are
 * drawn at random from below the kernel's ephemeral range, so a socket another test binds to port 0 meanwhile can
 * never be given one of them (a port taken here, released, then handed to someone's bind(0) was an EADDRINUSE when
 * its owner re-bound it). Two callers could still draw the same port at the same moment: each is checked by binding
 * it, and the range holds ~20,000 ports. Falls back to kernel-chosen ports when the range is exhausted
 * (MAX_TRIES binds). Only tests and the lab use this, never a daemon.
 */
export async function freeUdpPorts(n: number, address = "127.0.0.1"): Promise<number[]> {
  const high = ephemeralLow() - 1;
  const socks: Socket[] = [];
  try {
    for (let tries = 0; socks.length < n && tries < MAX_TRIES && high > LOW; tries++) {
      const port = LOW + Math.floor(Math.random() * (high - LOW + 1));
      const s = await bindUdp(port, address);
      if (s) socks.push(s);
    }
    while (socks.length < n) {
      const s = await bindUdp(0, address);
      if (!s) throw new Error(`cannot bind a UDP port on ${address}`);
      socks.push(s);
    }
    return socks.map((s) => s.address().port);
  } finally {
    for (const s of socks) s.close();
  }
}
