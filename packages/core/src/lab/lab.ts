import { type ChildProcess, fork } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Clock } from "../plugin-api/services.js";
import type { SimHostArgs } from "./sim-host.js";
import { type LabRow, renderTable } from "./table.js";

export interface LabOptions {
  hosts: number;
  /** Real seconds to run; 0 = until interrupted. */
  durationS: number;
  /** Lab time runs this many times faster than real time. */
  speed: number;
  json: boolean;
  clock: Clock;
  out: NodeJS.WritableStream;
  /** Keep the per-host root dirs after the run. */
  keep?: boolean;
}

interface HostState {
  hostname: string;
  address: string;
  root: string;
  proc?: ChildProcess;
  lastSeen?: number;
  messages: number;
}

/** A host counts as gone after this many silent announce periods. */
const MISSED_PERIODS_OFFLINE = 3;

/** Simulated host i gets 127.0.1.(i+1): its own loopback address, as a real host has its own mgmt IP. */
export function simHostAddress(i: number): string {
  if (i < 0 || i > 253) throw new RangeError("the lab supports 1..254 hosts");
  return `127.0.1.${i + 1}`;
}

export async function runLab(o: LabOptions): Promise<{ ok: boolean; rows: LabRow[] }> {
  const base = mkdtempSync(join(tmpdir(), "metal-lab-"));
  const periodMs = Math.max(50, 1000 / o.speed);
  const hosts: HostState[] = Array.from({ length: o.hosts }, (_, i) => ({
    hostname: `worker-${i}`,
    address: simHostAddress(i),
    root: join(base, `worker-${i}`),
    messages: 0,
  }));
  const byName = new Map(hosts.map((h) => [h.hostname, h]));

  const controller = createSocket("udp4");
  controller.on("message", (buf) => {
    let msg: { lab?: string; hostname?: string };
    try {
      msg = JSON.parse(buf.toString("utf8")) as typeof msg;
    } catch {
      return; // not ours; the lab controller ignores anything it cannot read
    }
    const h = msg.lab === "register" && typeof msg.hostname === "string" ? byName.get(msg.hostname) : undefined;
    if (!h) return;
    h.lastSeen = o.clock.now();
    h.messages++;
  });
  await new Promise<void>((resolve) => controller.bind(0, "127.0.0.1", resolve));
  const controllerPort = controller.address().port;

  const entry = join(fileURLToPath(new URL(".", import.meta.url)), "sim-host.js");
  for (const h of hosts) {
    const args: SimHostArgs = { hostname: h.hostname, address: h.address, controller: "127.0.0.1", controllerPort, root: h.root, periodMs };
    h.proc = fork(entry, ["--sim-host", JSON.stringify(args)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  }

  const rows = (): LabRow[] =>
    hosts.map((h) => {
      const age = h.lastSeen === undefined ? null : (o.clock.now() - h.lastSeen) / 1000;
      const state = age === null ? "unregistered" : age * 1000 > periodMs * MISSED_PERIODS_OFFLINE ? "offline" : "registered";
      return { hostname: h.hostname, address: h.address, state, lastSeenS: age, messages: h.messages };
    });
  const tty = "isTTY" in o.out && (o.out as NodeJS.WriteStream).isTTY;
  const started = o.clock.now();
  const draw = () => {
    if (o.json || !tty) return;
    const header = `metal lab: controller-0 @127.0.0.1:${controllerPort}, ${o.hosts} hosts, speed x${o.speed}, ${((o.clock.now() - started) / 1000).toFixed(0)}s`;
    o.out.write(`\x1b[H\x1b[2J${renderTable(rows(), header)}\n`);
  };
  const drawTimer = o.clock.setInterval(draw, 500);

  const stop = new Promise<void>((resolve) => {
    if (o.durationS > 0) setTimeout(resolve, o.durationS * 1000);
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await stop;
  o.clock.clearInterval(drawTimer);

  const final = rows();
  for (const h of hosts) h.proc?.kill("SIGTERM");
  controller.close();
  if (!o.keep) rmSync(base, { recursive: true, force: true });
  const ok = final.every((r) => r.state === "registered");
  if (o.json) o.out.write(`${JSON.stringify({ ok, hosts: final }, null, 2)}\n`);
  else o.out.write(`${renderTable(final, "metal lab: final host states")}\n`);
  return { ok, rows: final };
}
