import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A throw-away etcd cluster on loopback for the lab, the tests and the bench (PEERS.md "Replicated store"): N members
 * (default 3), each with its own `--name`, `--data-dir`, client and peer URL on free TCP ports, one `--initial-cluster`.
 * Members can be killed (SIGKILL) and revived on the same data dir and ports; `stop()` kills them all and removes
 * the data dirs. Errors: `start()` rejects with code `ETCD_START` when the binary is missing or the cluster does not
 * report healthy within `startTimeoutMs`.
 */
export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  proc: ChildProcess | undefined;
}

export class EtcdClusterError extends Error {
  constructor(
    readonly code: "ETCD_START",
    message: string,
  ) {
    super(message);
  }
}

/** TCP ports the kernel hands out for port 0 on loopback, all held at once so they are distinct, then released. */
export async function freeTcpPorts(n: number, address = "127.0.0.1"): Promise<number[]> {
  const servers = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(0, address, () => resolve());
      });
      ports.push((s.address() as { port: number }).port);
    }
    return ports;
  } finally {
    for (const s of servers) s.close();
  }
}

export class EtcdCluster {
  readonly members: EtcdMember[];
  private readonly token: string;

  private constructor(
    readonly baseDir: string,
    members: EtcdMember[],
    private readonly binary: string,
  ) {
    this.members = members;
    this.token = `metal-${process.pid}-${Date.now()}`;
  }

  /** Client URLs of every member (the `store.endpoints` of an agent). */
  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /** Create and start an `n`-member cluster; resolves once every member answers `/health` true. */
  static async start(o: { members?: number; baseDir?: string; binary?: string; startTimeoutMs?: number; address?: string } = {}): Promise<EtcdCluster> {
    const n = o.members ?? 3;
    const base = o.baseDir ?? mkdtempSync(join(tmpdir(), "metal-etcd-"));
    // Loopback by default; a test's own bridge address (network namespaces) otherwise.
    const address = o.address ?? "127.0.0.1";
    const ports = await freeTcpPorts(2 * n, address);
    const members: EtcdMember[] = [];
    for (let i = 0; i < n; i++) {
      members.push({
        name: `e${i}`,
        clientUrl: `http://${address}:${ports[2 * i]}`,
        peerUrl: `http://${address}:${ports[2 * i + 1]}`,
        dataDir: join(base, `e${i}`),
        proc: undefined,
      });
    }
    const c = new EtcdCluster(base, members, o.binary ?? "etcd");
    try {
      for (let i = 0; i < n; i++) c.spawnMember(i);
      await c.waitHealthy(
        members.map((_, i) => i),
        o.startTimeoutMs ?? 20_000,
      );
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  private spawnMember(i: number): void {
    const m = this.members[i] as EtcdMember;
    mkdirSync(m.dataDir, { recursive: true, mode: 0o700 });
    const initial = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(",");
    const args = [
      "--name",
      m.name,
      "--data-dir",
      m.dataDir,
      "--listen-client-urls",
      m.clientUrl,
      "--advertise-client-urls",
      m.clientUrl,
      "--listen-peer-urls",
      m.peerUrl,
      "--initial-advertise-peer-urls",
      m.peerUrl,
      "--initial-cluster",
      initial,
      "--initial-cluster-state",
      "new",
      "--initial-cluster-token",
      this.token,
      // Loopback: short heartbeats so a lost member is noticed and a new raft leader elected within about a second
      // (with 100/1000 ms a loaded 2-core machine took up to 3 s, the whole validity a 3 s lease keeps after a
      // keepalive); pre-vote keeps a member that was starved of CPU from deposing a healthy raft leader when it wakes.
      "--heartbeat-interval",
      "50",
      "--election-timeout",
      "500",
      "--pre-vote",
      "--log-level",
      "error",
      "--logger",
      "zap",
    ];
    const proc = spawn(this.binary, args, { stdio: ["ignore", "ignore", "ignore"] });
    proc.on("error", () => {
      // A missing binary shows as a start timeout with the reason below.
    });
    m.proc = proc;
    proc.once("exit", () => {
      if (m.proc === proc) m.proc = undefined;
    });
  }

  /** True when member `i` answers `GET /health` with `{"health":"true"}`. */
  async healthy(i: number): Promise<boolean> {
    const m = this.members[i] as EtcdMember;
    try {
      const res = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      return body.health === "true";
    } catch {
      return false;
    }
  }

  /** Wait until each listed member is healthy (bounded by `timeoutMs`). */
  async waitHealthy(indexes: number[], timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await Promise.all(indexes.map((i) => this.healthy(i)));
      if (ok.every(Boolean)) return;
      if (Date.now() >= deadline) {
        const down = indexes.filter((_, k) => !ok[k]).map((i) => this.members[i]?.name);
        throw new EtcdClusterError("ETCD_START", `etcd members ${down.join(", ")} not healthy within ${timeoutMs} ms (is etcd-server installed?)`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** SIGKILL member `i` (its data dir stays, so it can be revived). Resolves once it has exited. */
  async kill(i: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const m = this.members[i];
    const p = m?.proc;
    if (!m || !p) return;
    const exited = new Promise<void>((resolve) => p.once("exit", () => resolve()));
    p.kill(signal);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    m.proc = undefined;
  }

  /** Start member `i` again on its data dir and ports (joins the existing cluster). */
  revive(i: number): void {
    const m = this.members[i];
    if (!m || m.proc) return;
    this.spawnMember(i);
  }

  /** The index of the member that is the raft leader (asked of each running member), undefined when none answers so. */
  async raftLeader(): Promise<number | undefined> {
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[i] as EtcdMember;
      if (!m.proc) continue;
      try {
        const res = await fetch(`${m.clientUrl}/v3/maintenance/status`, { method: "POST", body: "{}", signal: AbortSignal.timeout(1000) });
        const b = (await res.json()) as { leader?: string; header?: { member_id?: string } };
        if (b.leader && b.leader !== "0" && b.header?.member_id === b.leader) return i;
      } catch {
        // not answering: not the leader we can use
      }
    }
    return undefined;
  }

  running(i: number): boolean {
    return Boolean(this.members[i]?.proc);
  }

  /** Kill every member and remove the data dirs. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.kill(i)));
    rmSync(this.baseDir, { recursive: true, force: true });
  }
}
