/**
 * The heartbeat bench's simulated hosts, all in one process, one UDP socket each on 127.1.x.y. In `pulse` mode
 * each answers like an hbsClient (the real pulse codec: decode the request, encode a sequence-matched response to
 * the agent's port for that network); in `echo` mode it bounces the bytes (the raw UDP baseline). Driven over IPC:
 * `{q:"stats"}` -> `{replies}`, `{q:"kill", hosts:[i..]}` closes those sockets -> `{killedAt}`.
 */
import { createSocket, type Socket } from "node:dgram";
import { decodePulse, encodePulse, HBS_MESSAGE_VERSION, PulseFlag } from "@metal/core/wire/hbs-pulse";

export const simHostIp = (i: number) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

interface Args {
  n: number;
  port: number;
  mode: "pulse" | "echo";
  agentClstrAddress: string;
  agentMgmtPort: number;
  agentClstrPort: number;
}

async function run(a: Args): Promise<void> {
  let replies = 0;
  const socks: Array<Socket | undefined> = [];
  for (let i = 0; i < a.n; i++) {
    const s = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(a.port, simHostIp(i), () => resolve());
    });
    const hostname = `host-${i}`;
    s.on("message", (data, rinfo) => {
      if (a.mode === "echo") {
        s.send(data, rinfo.port, rinfo.address);
        replies++;
        return;
      }
      const d = decodePulse(data);
      if (!d.ok || d.pulse.kind !== "req") return;
      const rsp = encodePulse({
        kind: "rsp",
        host: hostname,
        seq: d.pulse.seq,
        rri: 0,
        flags: (d.pulse.flags & PulseFlag.CTRLX_MASK) | PulseFlag.PMOND | PulseFlag.CLSTR,
        version: HBS_MESSAGE_VERSION,
      });
      s.send(rsp, rinfo.address === a.agentClstrAddress ? a.agentClstrPort : a.agentMgmtPort, rinfo.address);
      replies++;
    });
    s.on("error", () => undefined);
    socks.push(s);
  }
  process.on("message", (m: { q: string; hosts?: number[] }) => {
    if (m.q === "stats") process.send?.({ replies });
    if (m.q === "kill") {
      const killedAt = Date.now();
      for (const i of m.hosts ?? []) {
        socks[i]?.close();
        socks[i] = undefined;
      }
      process.send?.({ killedAt });
    }
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ ready: true });
}

if (process.argv[2] === "--sim-hosts") await run(JSON.parse(process.argv[3] ?? "{}") as Args);
