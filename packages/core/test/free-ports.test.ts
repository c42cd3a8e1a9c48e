/**
 * Ports handed to test and lab configs come from below the kernel's ephemeral range, so another socket's bind(0)
 * can never be given one between its release and its owner's re-bind (pmon-process once failed EADDRINUSE on it).
 */
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import test from "ava";
import { freeUdpPorts } from "../src/transport/free-ports.js";

test("free UDP ports are distinct, bindable and outside the ephemeral range", async (t) => {
  const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  const ports = await freeUdpPorts(50);
  t.is(new Set(ports).size, 50);
  for (const p of ports) t.true(p >= 10_000 && p < low, `${p} below ${low}`);
  for (const port of ports.slice(0, 5)) {
    const s = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(port, "127.0.0.1", () => resolve());
    });
    s.close();
  }
});
