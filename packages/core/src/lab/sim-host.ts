/**
 * One simulated host of the lab, run as its own process: binds its own loopback address and
 * announces itself to the lab controller every period. (Stage one of the lab: hosts register.
 * The real mtcClient takes this place when maintenance messaging lands.)
 */
import { createSocket } from "node:dgram";
import { mkdirSync } from "node:fs";

export interface SimHostArgs {
  hostname: string;
  address: string;
  controller: string;
  controllerPort: number;
  root: string;
  periodMs: number;
}

export function runSimHost(args: SimHostArgs): () => void {
  mkdirSync(args.root, { recursive: true });
  const started = Date.now();
  const sock = createSocket("udp4");
  let seq = 0;
  const announce = () => {
    const msg = JSON.stringify({ lab: "register", hostname: args.hostname, seq: seq++, uptime: Math.floor((Date.now() - started) / 1000) });
    sock.send(msg, args.controllerPort, args.controller);
  };
  let timer: NodeJS.Timeout | undefined;
  sock.bind(0, args.address, () => {
    announce();
    timer = setInterval(announce, args.periodMs);
  });
  return () => {
    if (timer) clearInterval(timer);
    sock.close();
  };
}

// Entry point when forked by the lab.
if (process.argv[2] === "--sim-host") {
  const a = JSON.parse(process.argv[3] ?? "{}") as SimHostArgs;
  const stop = runSimHost(a);
  const quit = () => {
    stop();
    process.exit(0);
  };
  process.on("SIGTERM", quit);
  process.on("SIGINT", quit);
  process.on("disconnect", quit);
}
