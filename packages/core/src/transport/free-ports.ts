import { createSocket, type Socket } from "node:dgram";

/**
 * UDP ports the kernel hands out for port 0, released again so they can go into a config (tests, the lab).
 * All are taken at once, so they are distinct; another process could take one before it is re-bound, which is
 * why only tests and the lab use this, never a daemon.
 */
export async function freeUdpPorts(n: number, address = "127.0.0.1"): Promise<number[]> {
  const socks: Socket[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createSocket("udp4");
      socks.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.bind(0, address, () => resolve());
      });
    }
    return socks.map((s) => s.address().port);
  } finally {
    for (const s of socks) s.close();
  }
}
