/**
 * The heartbeat bench's simulated hosts, all in one process, one UDP socket each on 127.1.x.y. In `pulse` mode
 * each answers like an hbsClient (a sequence-matched response built with the real pulse codec, sent to the agent's
 * port for that network); in `echo` mode it bounces the bytes (the raw UDP baseline). Driven over IPC:
 * `{q:"stats"}` -> `{replies}`, `{q:"kill", hosts:[i..]}` closes those sockets -> `{killedAt}`.
 */
import { createSocket, type Socket } from "node:dgram";
import {
  controllerOfFlags,
  encodePulse,
  HBS_FIELDS_END,
  HBS_HEADER_SIZE,
  HBS_MESSAGE_VERSION,
  PULSE_REQ_HEADER,
  PulseFlag,
  withController,
} from "@metal/core/wire/hbs-pulse";

/** Offsets of `s` and `f` in hbs_message_type. */
const SEQ_AT = 47;
const FLAGS_AT = 55;

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
    // The response is encoded once with the real codec; per request only the sequence and the requester's
    // controller bits change (the bytes the hbsClient echoes), so the simulation costs about as much as an echo.
    const rsp = encodePulse({ kind: "rsp", host: `host-${i}`, seq: 0, rri: 0, flags: PulseFlag.PMOND | PulseFlag.CLSTR, version: HBS_MESSAGE_VERSION });
    s.on("message", (data, rinfo) => {
      if (a.mode === "echo") {
        s.send(data, rinfo.port, rinfo.address);
        replies++;
        return;
      }
      if (data.length < HBS_FIELDS_END || data.toString("latin1", 0, HBS_HEADER_SIZE) !== PULSE_REQ_HEADER) return;
      rsp.writeUInt32LE(data.readUInt32LE(SEQ_AT), SEQ_AT);
      rsp.writeUInt32LE(withController(PulseFlag.PMOND | PulseFlag.CLSTR, controllerOfFlags(data.readUInt32LE(FLAGS_AT))), FLAGS_AT);
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
