import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MessageChannel } from "@metal/plugin-guest/channel/message-channel";
import { GuestCmd, GuestEvent } from "@metal/plugin-guest/udp/codes";
import { decodeGuestDatagram, encodeGuestDatagram } from "@metal/plugin-guest/udp/guest-datagram";
import type { Benchmark, BenchResult } from "./harness.js";

/**
 * 1,000 simulated guests on one guestServer (a child process, as on a worker) at 1 s and at 400 ms:
 * false losses (target 0) and guestServer CPU (target under 15% of one core at 1 s), against a raw
 * UNIX-socket echo peer driving the same sockets at the same rate, measured in the same run.
 * GUEST_BENCH_SECONDS (default 10) sets each measuring window; GUEST_BENCH_INSTANCES (default 1000).
 */
const here = dirname(fileURLToPath(import.meta.url));
const METAL_MAIN = join(here, "../../packages/core/dist/src/cli/main.js");
const ECHO_PEER = join(here, "guest-echo-peer.js");
const seconds = Number(process.env.GUEST_BENCH_SECONDS ?? 10);
const instances = Number(process.env.GUEST_BENCH_INSTANCES ?? 1000);
const CLK_TCK = 100;

const uuidOf = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** The guests: N listening channel sockets; each either behaves as a guest or just echoes. */
class Guests {
  readonly servers: Server[] = [];
  answered = 0;
  /** Per guest: when it was last challenged and how often (the guest's own view of being heartbeated). */
  readonly lastChallenge = new Map<number, number>();
  readonly challenges = new Map<number, number>();
  constructor(
    readonly dir: string,
    readonly mode: "guest" | "echo",
    readonly intervalMs: number,
  ) {}

  async listen(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const server = createServer((conn) => (this.mode === "echo" ? this.echo(conn) : this.guest(conn, i)));
      await new Promise<void>((r) => server.listen(join(this.dir, `cgcs.heartbeat.${uuidOf(i)}.sock`), () => r()));
      this.servers.push(server);
    }
  }

  private echo(conn: Socket): void {
    conn.on("data", (c) => conn.write(c));
    conn.on("error", () => {});
  }

  private guest(conn: Socket, i: number): void {
    const ch = new MessageChannel((f) => conn.write(f), {
      message: (m) => {
        if (m.msg_type !== "challenge") return;
        this.answered++;
        this.lastChallenge.set(i, Date.now());
        this.challenges.set(i, (this.challenges.get(i) ?? 0) + 1);
        ch.send({
          msg_type: "challenge_response",
          heartbeat_response: m.heartbeat_challenge,
          heartbeat_health: "healthy",
          corrective_action: "none",
          log_msg: "",
        });
      },
      invalid: () => {},
    });
    conn.on("data", (c: Buffer) => ch.feed(c));
    conn.on("error", () => {});
    ch.send({
      msg_type: "init",
      invocation_id: i + 1,
      name: `vm-${i}`,
      heartbeat_interval_ms: this.intervalMs,
      vote_secs: 11,
      shutdown_notice_secs: 11,
      suspend_notice_secs: 11,
      resume_notice_secs: 11,
      restart_secs: 121,
      corrective_action: "reboot",
    });
  }

  /** Guests challenged at least twice (init_ack + heartbeat running). */
  heartbeating(): number {
    let n = 0;
    for (const c of this.challenges.values()) if (c >= 2) n++;
    return n;
  }

  /** Guests not challenged within `ms`: what a guest sees when its host has declared it lost. */
  silentFor(ms: number): number {
    const now = Date.now();
    let n = 0;
    for (let i = 0; i < this.servers.length; i++) if (now - (this.lastChallenge.get(i) ?? 0) > ms) n++;
    return n;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(() => r(null)))));
  }
}

async function waitUntil(pred: () => boolean, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end && !pred()) await new Promise((r) => setTimeout(r, 100));
  return pred();
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

/** Measure CPU % of one core used by `pid` over the window. */
async function cpuPercent(pid: number, windowMs: number): Promise<number> {
  const c0 = cpuSeconds(pid);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, windowMs));
  return ((cpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000)) * 100;
}

async function runGuestServer(
  intervalMs: number,
): Promise<{ cpu: number; losses: number; stopped: number; running: number; answered: number; silent: number }> {
  const root = mkdtempSync(join(tmpdir(), "metal-guest-bench-"));
  const dir = join(root, "qemu");
  mkdirSync(dir);
  const guests = new Guests(dir, "guest", intervalMs);
  const agent = createSocket("udp4");
  let losses = 0;
  let stopped = 0;
  const running = new Set<string>();
  agent.on("message", (data) => {
    const d = decodeGuestDatagram(data);
    if (!d.ok) return;
    if (d.cmd === GuestEvent.MTC_EVENT_HEARTBEAT_LOSS) losses++;
    if (d.cmd === GuestEvent.MTC_EVENT_HEARTBEAT_STOPPED) stopped++;
    if (d.cmd === GuestEvent.MTC_EVENT_HEARTBEAT_RUNNING) running.add(String(d.payload.uuid));
  });
  await new Promise<void>((r) => agent.bind(0, "127.0.0.1", () => r()));
  const serverPort = await new Promise<number>((resolve) => {
    const probe = createSocket("udp4");
    probe.bind(0, "127.0.0.1", () => {
      const p = probe.address().port;
      probe.close(() => resolve(p));
    });
  });
  let child: ChildProcess | undefined;
  try {
    await guests.listen(instances);
    const cfg = {
      node: { hostname: "worker-0" },
      logging: { level: "warn" },
      guest: { server: { port: serverPort, agentAddress: "127.0.0.1" }, agent: { port: agent.address().port } },
    };
    writeFileSync(join(root, "server.json"), JSON.stringify(cfg));
    child = spawn(process.execPath, [METAL_MAIN, "guest-server", "--config", join(root, "server.json"), "--channel-dir", dir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    child.once("exit", (code, signal) => {
      if (code !== 0 && signal !== "SIGTERM" && signal !== "SIGKILL") process.stderr.write(`guest-server exited (${code ?? signal}): ${stderr}\n`);
    });
    const up = await waitUntil(() => guests.heartbeating() === instances, 120_000);
    if (!up) throw new Error(`only ${guests.heartbeating()}/${instances} guests heartbeating after 120 s`);
    // Reporting on, host and every instance, so a loss would be reported.
    const send = (cmd: number, payload: Record<string, unknown>) =>
      agent.send(encodeGuestDatagram(cmd, { source: "127.0.0.1", ...payload }), serverPort, "127.0.0.1");
    send(GuestCmd.MTC_CMD_MOD_HOST, { uuid: "host", heartbeat: "enabled" });
    for (let i = 0; i < instances; i++) {
      send(GuestCmd.MTC_CMD_MOD_INST, { uuid: uuidOf(i), service: "heartbeat", state: "enabled" });
      // paced, so the server's socket buffer is not what is measured
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 2 * intervalMs));
    losses = 0;
    stopped = 0;
    const answered0 = guests.answered;
    const cpu = await cpuPercent(child.pid!, seconds * 1000);
    const silent = guests.silentFor(3 * intervalMs);
    return { cpu, losses, stopped, running: running.size, answered: guests.answered - answered0, silent };
  } finally {
    if (child) await stop(child);
    agent.close();
    await guests.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function runEchoBaseline(intervalMs: number): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), "metal-guest-echo-"));
  const guests = new Guests(root, "echo", intervalMs);
  let child: ChildProcess | undefined;
  try {
    await guests.listen(instances);
    child = spawn(process.execPath, [ECHO_PEER, root, String(intervalMs)], { stdio: ["ignore", "ignore", "inherit"] });
    await new Promise((r) => setTimeout(r, 1500 + intervalMs));
    return await cpuPercent(child.pid!, seconds * 1000);
  } finally {
    if (child) await stop(child);
    await guests.close();
    rmSync(root, { recursive: true, force: true });
  }
}

const bench: Benchmark = {
  name: "guest",
  async run() {
    const results: BenchResult[] = [];
    for (const intervalMs of [1000, 400]) {
      const g = await runGuestServer(intervalMs);
      const echo = await runEchoBaseline(intervalMs);
      const expected = (instances * seconds * 1000) / intervalMs;
      results.push({
        name: `guestServer CPU, ${instances} guests @ ${intervalMs} ms`,
        figure: g.cpu,
        unit: "% of a core",
        baselineName: "raw UNIX-socket echo peer",
        baseline: echo,
        ratio: g.cpu > 0 ? echo / g.cpu : 0,
        ...(intervalMs === 1000 ? { target: "< 15% of one core", met: g.cpu < 15 } : {}),
        notes: `${g.answered} of ~${Math.round(expected)} challenges answered in ${seconds} s`,
      });
      results.push({
        name: `false losses, ${instances} guests @ ${intervalMs} ms for ${seconds} s`,
        figure: Math.max(g.losses, g.silent),
        unit: "count",
        baselineName: "guests heartbeating",
        baseline: instances,
        ratio: Math.max(g.losses, g.silent) / instances,
        target: "0",
        met: g.losses === 0 && g.stopped === 0 && g.silent === 0,
        notes: `${g.losses} LOSS and ${g.stopped} STOPPED events at the agent, ${g.silent} guests unchallenged for 3 intervals; RUNNING seen for ${g.running}`,
      });
    }
    return results;
  },
};
export default bench;
