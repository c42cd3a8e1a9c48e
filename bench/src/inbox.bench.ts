import { createSocket } from "node:dgram";
import { Worker } from "node:worker_threads";
import {
  AgentMessaging,
  type AlarmManager,
  defaultConfig,
  encodeMtcMessage,
  freeUdpPorts,
  MtcFlag,
  mtcAliveMessage,
  SystemClock,
  silentLogger,
  UdpTransport,
} from "@metal/core";
import type { Benchmark, BenchResult } from "./harness.js";

const HOSTS = 500;
const SEND_MS = 2_000;
const RECV_BUFFER = 8 * 1024 * 1024;

/** The sender runs in its own thread: every host's mtcAlive in turn, a fresh sequence each time, as fast as UDP takes them. */
const SENDER = `
const { parentPort, workerData } = require("node:worker_threads");
const dgram = require("node:dgram");
const { port, templates, ms } = workerData;
const sock = dgram.createSocket("udp4");
const seq = new Uint32Array(templates.length);
let sent = 0, inflight = 0, host = 0, done = false;
const end = Date.now() + ms;
function pump() {
  while (!done && inflight < 64) {
    if ((sent & 1023) === 0 && Date.now() >= end) { done = true; break; }
    const b = Buffer.from(templates[host]);
    b.writeUInt32LE(++seq[host], 92);
    host = (host + 1) % templates.length;
    inflight++; sent++;
    sock.send(b, port, "127.0.0.1", () => { inflight--; if (done) { if (inflight === 0) finish(); } else pump(); });
  }
  if (done && inflight === 0) finish();
}
let finished = false;
function finish() { if (finished) return; finished = true; sock.close(); parentPort.postMessage({ sent }); }
sock.bind(0, "127.0.0.2", pump);
`;

function templates(): Uint8Array[] {
  return Array.from({ length: HOSTS }, (_, i) =>
    encodeMtcMessage(
      mtcAliveMessage({
        uptime: 1000 + i,
        health: 1,
        flags: MtcFlag.I_AM_CONFIGURED | MtcFlag.I_AM_HEALTHY | MtcFlag.MAIN_GOENABLED,
        sequence: 0,
        payload: {
          hostname: `worker-${i}`,
          personality: "worker",
          mgmt_ip: `10.0.${i >> 8}.${i & 255}`,
          mgmt_mac: "52:54:00:00:00:01",
          interface: "Mgmnt",
          sequence: 0,
        },
      }),
    ),
  );
}

/** Blast mtcAlives at `port` for SEND_MS; return what the receiver counted per second of sending. */
async function blast(port: number, count: () => number): Promise<{ rate: number; sent: number }> {
  const before = count();
  const t0 = process.hrtime.bigint();
  const sent = await new Promise<number>((resolve, reject) => {
    const w = new Worker(SENDER, { eval: true, workerData: { port, templates: templates(), ms: SEND_MS } });
    w.once("message", (m: { sent: number }) => resolve(m.sent));
    w.once("error", reject);
  });
  await new Promise((r) => setTimeout(r, 100)); // drain what is already queued
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rate: (count() - before) / secs, sent };
}

async function rawReceive(): Promise<{ rate: number; sent: number }> {
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

async function inboxReceive(): Promise<{ rate: number; sent: number; accepted: number }> {
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
  for (let i = 0; i < HOSTS; i++) messaging.setHost({ hostname: `worker-${i}`, mgmtIp: `10.0.${i >> 8}.${i & 255}`, administrative: "unlocked" });
  let n = 0;
  messaging.onMessage((m) => {
    if (m.kind === "mtcAlive") n++;
  });
  await messaging.start();
  try {
    const r = await blast(agentMgmt, () => n);
    return { ...r, accepted: messaging.inbox.stats.accepted };
  } finally {
    await messaging.stop();
  }
}

/** Agent inbox throughput: decode + dispatch of mtcAlive from 500 hosts over UDP, against raw UDP receive in the same run. */
const bench: Benchmark = {
  name: "inbox",
  async run(): Promise<BenchResult[]> {
    let raw = 0;
    let inbox = 0;
    // Alternate, best of two each: the machine is shared, noise only ever lowers a rate.
    for (let i = 0; i < 2; i++) {
      raw = Math.max(raw, (await rawReceive()).rate);
      inbox = Math.max(inbox, (await inboxReceive()).rate);
    }
    const ratio = inbox / raw;
    return [
      {
        name: `agent inbox mtcAlive decode+dispatch, ${HOSTS} hosts, UDP`,
        figure: inbox,
        unit: "msg/s",
        baselineName: "raw UDP receive (count only)",
        baseline: raw,
        ratio,
        target: ">= 50,000 msg/s and >= 0.5x raw",
        met: inbox >= 50_000 && ratio >= 0.5,
        notes: "the original was soaked at 500 msg/s",
      },
    ];
  },
};
export default bench;
