import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentMessaging, type AlarmManager, defaultConfig, freeUdpPorts, SystemClock, silentLogger, UdpTransport } from "@metal/core";
import { execa } from "execa";
import { aliveTemplate } from "./alive-template.js";
import type { Benchmark, BenchResult } from "./harness.js";

const HOSTS = 500;
const SEND_MS = 2_000;
const RECV_BUFFER = 8 * 1024 * 1024;

/**
 * The sender is its own process (so the receiver's CPU time can be measured alone): every host's mtcAlive in
 * turn, a fresh sequence each time, as fast as UDP takes them.
 */
const SENDER = `
const dgram = require("node:dgram");
const fs = require("node:fs");
const [port, file, ms] = process.argv.slice(1);
const templates = JSON.parse(fs.readFileSync(file, "utf8")).map((h) => Buffer.from(h, "hex"));
const sock = dgram.createSocket("udp4");
const seq = new Uint32Array(templates.length);
let sent = 0, inflight = 0, host = 0, done = false, finished = false;
const end = Date.now() + Number(ms);
function finish() { if (finished) return; finished = true; sock.close(); process.stdout.write(String(sent)); }
function pump() {
  while (!done && inflight < 64) {
    if ((sent & 1023) === 0 && Date.now() >= end) { done = true; break; }
    const b = Buffer.from(templates[host]);
    b.writeUInt32LE(++seq[host], 92);
    host = (host + 1) % templates.length;
    inflight++; sent++;
    sock.send(b, Number(port), "127.0.0.1", () => { inflight--; if (done) { if (inflight === 0) finish(); } else pump(); });
  }
  if (done && inflight === 0) finish();
}
sock.bind(0, "127.0.0.2", pump);
`;

function templates(): Uint8Array[] {
  return Array.from({ length: HOSTS }, (_, i) => aliveTemplate(i, 0, `10.0.${i >> 8}.${i & 255}`));
}

interface Blast {
  /** Messages the receiver handled per second of wall time while the sender ran. */
  wallRate: number;
  /** Messages handled per second of the receiving process's own CPU time: its capacity on a shared machine. */
  cpuRate: number;
  sent: number;
}

/** Blast mtcAlives at `port` for SEND_MS from a sender process; count what the receiver handled. */
async function blast(port: number, count: () => number): Promise<Blast> {
  const dir = mkdtempSync(join(tmpdir(), "metal-bench-"));
  const file = join(dir, "templates.json");
  writeFileSync(file, JSON.stringify(templates().map((b) => Buffer.from(b).toString("hex"))));
  try {
    const before = count();
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const child = await execa(process.execPath, ["-e", SENDER, String(port), file, String(SEND_MS)], { reject: false });
    await new Promise((r) => setTimeout(r, 100)); // drain what is already queued
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const handled = count() - before;
    return { wallRate: handled / secs, cpuRate: handled / ((cpu.user + cpu.system) / 1e6), sent: Number(child.stdout) || 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rawReceive(): Promise<Blast> {
  const [port] = (await freeUdpPorts(1)) as [number];
  const sock = createSocket("udp4");
  let n = 0;
  sock.on("message", () => {
    n++;
  });
  await new Promise<void>((r) => sock.bind(port, "127.0.0.1", r));
  sock.setRecvBufferSize(RECV_BUFFER);
  try {
    return await blast(port, () => n);
  } finally {
    sock.close();
  }
}

async function inboxReceive(): Promise<Blast> {
  const [agentMgmt] = (await freeUdpPorts(1)) as [number];
  const config = defaultConfig({ networks: { mgmt: { controller: "127.0.0.1" } }, ports: { agentMgmt } });
  const alarms: AlarmManager = { raise() {}, clear() {}, active: () => [] };
  const messaging = new AgentMessaging({
    config,
    transport: new UdpTransport({ recvBufferSize: RECV_BUFFER }),
    clock: new SystemClock(),
    logger: silentLogger(),
    alarms,
  });
  // One sender process plays every host, so every host's mgmt address is the sender's (the inbox takes a host's
  // mtcAlive only from its own mgmt address).
  for (let i = 0; i < HOSTS; i++) messaging.setHost({ hostname: `worker-${i}`, mgmtIp: "127.0.0.2", administrative: "unlocked" });
  let n = 0;
  messaging.onMessage((m) => {
    if (m.kind === "mtcAlive") n++;
  });
  await messaging.start();
  try {
    return await blast(agentMgmt, () => n);
  } finally {
    await messaging.stop();
  }
}

/** Agent inbox throughput: decode + dispatch of mtcAlive from 500 hosts over UDP, against raw UDP receive in the same run. */
const bench: Benchmark = {
  name: "inbox",
  async run(): Promise<BenchResult[]> {
    const best = { raw: { wallRate: 0, cpuRate: 0, sent: 0 }, inbox: { wallRate: 0, cpuRate: 0, sent: 0 } };
    // Alternate, best of three each: the machine is shared, and noise only ever lowers a rate.
    for (let i = 0; i < 3; i++) {
      const r = await rawReceive();
      if (r.cpuRate > best.raw.cpuRate) best.raw = r;
      const b = await inboxReceive();
      if (b.cpuRate > best.inbox.cpuRate) best.inbox = b;
    }
    const ratio = best.inbox.cpuRate / best.raw.cpuRate;
    return [
      {
        name: `agent inbox mtcAlive decode+dispatch, ${HOSTS} hosts, UDP (per receiver CPU second)`,
        figure: best.inbox.cpuRate,
        unit: "msg/s",
        baselineName: "raw UDP receive (count only)",
        baseline: best.raw.cpuRate,
        ratio,
        target: ">= 50,000 msg/s and >= 0.5x raw",
        met: best.inbox.cpuRate >= 50_000 && ratio >= 0.5,
        notes: `wall-clock on this shared machine: inbox ${Math.round(best.inbox.wallRate)} vs raw ${Math.round(best.raw.wallRate)} msg/s (${(best.inbox.wallRate / best.raw.wallRate).toFixed(2)}x); the original was soaked at 500 msg/s`,
      },
    ];
  },
};
export default bench;
