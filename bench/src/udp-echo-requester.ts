/**
 * The heartbeat bench's same-run baseline: the least a heartbeat agent can do. Every period it sends one
 * datagram of pulse size to every simulated host on two "networks", counts the echoes, and marks a host dead
 * after 10 periods in a row without one. No codec, no bookkeeping beyond a counter per host. Runs as its own
 * process so its CPU is measured the same way as the hbsAgent's; reports over IPC.
 */
import { createSocket } from "node:dgram";

interface Args {
  addresses: string[];
  port: number;
  bindMgmt: string;
  bindClstr: string;
  /** Fixed local ports, as the hbsAgent has (measured here: replies to ephemeral-port sockets were dropped far more). */
  localPorts: [number, number];
  periodMs: number;
  pulseBytes: number;
  failure: number;
}

if (process.argv[2] === "--echo-requester") {
  const a = JSON.parse(process.argv[3] ?? "{}") as Args;
  const socks = await Promise.all(
    [a.bindMgmt, a.bindClstr].map(
      (addr, n) =>
        new Promise<ReturnType<typeof createSocket>>((resolve) => {
          const s = createSocket("udp4");
          s.bind(a.localPorts[n], addr, () => {
            // The same socket buffers as the hbsAgent's, so the baseline is not starved by a small default.
            s.setRecvBufferSize(4 * 1024 * 1024);
            s.setSendBufferSize(4 * 1024 * 1024);
            resolve(s);
          });
        }),
    ),
  );
  const index = new Map(a.addresses.map((ip, i) => [ip, i]));
  const answered = [new Uint8Array(a.addresses.length), new Uint8Array(a.addresses.length)];
  const misses = [new Uint16Array(a.addresses.length), new Uint16Array(a.addresses.length)];
  let replies = 0;
  let sent = 0;
  const payload = Buffer.alloc(a.pulseBytes, 0x5a);
  socks.forEach((s, n) => {
    s.on("message", (_d, rinfo) => {
      const i = index.get(rinfo.address);
      if (i === undefined) return;
      answered[n]![i] = 1;
      replies++;
    });
  });
  const dead: Record<string, number> = {};
  const tick = () => {
    for (let n = 0; n < 2; n++) {
      const got = answered[n]!;
      const miss = misses[n]!;
      for (let i = 0; i < a.addresses.length; i++) {
        if (got[i]) miss[i] = 0;
        else if (++miss[i]! === a.failure && n === 0) dead[a.addresses[i]!] = Date.now();
        got[i] = 0;
      }
    }
    // Send in slices so replies are read while the fan-out goes on (a tight loop of thousands of sends
    // would leave every reply queued until the socket buffer overflows).
    const sendSlice = (from: number) => {
      const to = Math.min(from + 250, a.addresses.length);
      for (let i = from; i < to; i++) {
        for (let n = 0; n < 2; n++) {
          socks[n]!.send(payload, a.port, a.addresses[i]!);
          sent++;
        }
      }
      if (to < a.addresses.length) setImmediate(() => sendSlice(to));
    };
    sendSlice(0);
  };
  setInterval(tick, a.periodMs);
  process.on("message", (m: { q: string }) => {
    if (m.q === "stats") process.send?.({ replies, sent, dead });
  });
  process.on("disconnect", () => process.exit(0));
}
