/**
 * The sender of the authenticated-inbox bench, as its own process (so the receiver's CPU is measured alone).
 * Builds its datagrams first (mtcAlives of every host in turn, fresh sequences, sealed with the cluster key when
 * one is given), so the keyed and the plain run send at the same speed, then sends them as fast as UDP takes them
 * for the given time. Prints how many it sent.
 * Args: port, templates file (JSON array of hex datagrams), milliseconds, key file or "-", datagrams to build.
 */
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { type DatagramAuth, KeyedDatagrams, loadClusterKeys, PLAIN_DATAGRAMS, silentLogger } from "@metal/core";

const [port, file, ms, keyFile, count] = process.argv.slice(2) as [string, string, string, string, string];
const templates = (JSON.parse(readFileSync(file, "utf8")) as string[]).map((h) => Buffer.from(h, "hex"));
const auth: DatagramAuth =
  keyFile === "-" ? PLAIN_DATAGRAMS : new KeyedDatagrams({ keys: loadClusterKeys(keyFile), logger: silentLogger(), windowMs: 600_000 });
const pool: Buffer[] = [];
for (let i = 0; i < Number(count); i++) {
  const b = Buffer.from(templates[i % templates.length] as Buffer);
  b.writeUInt32LE(Math.floor(i / templates.length) + 1, 92);
  pool.push(auth.seal(b));
}
const sock = createSocket("udp4");
let sent = 0;
let inflight = 0;
let done = false;
let finished = false;
let end = 0;
function finish(): void {
  if (finished) return;
  finished = true;
  sock.close();
  process.stdout.write(String(sent));
}
function pump(): void {
  while (!done && inflight < 64) {
    if (sent >= pool.length || ((sent & 255) === 0 && Date.now() >= end)) {
      done = true;
      break;
    }
    inflight++;
    sock.send(pool[sent++] as Buffer, Number(port), "127.0.0.1", () => {
      inflight--;
      if (done) {
        if (inflight === 0) finish();
      } else pump();
    });
  }
  if (done && inflight === 0) finish();
}
sock.bind(0, "127.0.0.2", () => {
  end = Date.now() + Number(ms);
  pump();
});
