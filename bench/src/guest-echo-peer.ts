import { readdirSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";

/**
 * The guest bench's baseline, run as its own process: connect to every socket in DIR and, per
 * connection, write one challenge-sized frame every INTERVAL ms and read the echo. The least work a
 * host side can do for the same sockets and message rate.
 * Usage: node guest-echo-peer.js DIR INTERVAL_MS
 */
const [dir = ".", intervalArg = "1000"] = process.argv.slice(2);
const interval = Number(intervalArg);
const frame = `\n${JSON.stringify({ version: 3, revision: 1, msg_type: "challenge", sequence: 1, heartbeat_challenge: 1804289383 })}\n`;
const sockets: Socket[] = [];
let echoed = 0;
for (const name of readdirSync(dir)) {
  if (!name.endsWith(".sock")) continue;
  const s = createConnection({ path: join(dir, name) });
  s.on("data", (c: Buffer) => {
    echoed += c.length;
  });
  s.on("error", () => {});
  s.on("connect", () => {
    setInterval(() => s.write(frame), interval);
  });
  sockets.push(s);
}
process.on("SIGTERM", () => {
  process.stdout.write(`${JSON.stringify({ sockets: sockets.length, echoed })}\n`);
  process.exit(0);
});
