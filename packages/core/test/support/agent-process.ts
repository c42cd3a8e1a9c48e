/**
 * A real `metal agent` process for tests: its own temp dir, free ports, a 0600 token file and a config file;
 * start, signal, restart, and talk to its REST API. Everything is removed in `dispose()`.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { freeUdpPorts } from "../../src/transport/free-ports.js";

export const metalMain = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "src", "cli", "main.js");
export const TOKEN = "agent-process-test-token";

export interface AgentReply {
  status: number;
  body: Record<string, unknown>;
}

export class AgentProcess {
  proc: ResultPromise | undefined;
  /** Everything the agent printed (stdout and stderr), across restarts. */
  output = "";
  readonly url: string;
  readonly cfgFile: string;

  private constructor(
    readonly dir: string,
    readonly config: Record<string, unknown>,
    readonly stateDir: string,
  ) {
    this.url = `http://127.0.0.1:${(config.api as { port: number }).port}`;
    this.cfgFile = join(dir, "agent.json");
    this.writeConfig();
  }

  /** A new agent setup; `patch` edits the config before it is written. */
  static async create(
    patch: (c: Record<string, unknown>) => void = () => undefined,
    dir = mkdtempSync(join(tmpdir(), "metal-agentp-")),
  ): Promise<AgentProcess> {
    const [agentMgmt, agentPxeboot, hbsCmd, hbsEvent, api, mtcalarm] = (await freeUdpPorts(6)) as [number, number, number, number, number, number];
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    const stateDir = join(dir, "state");
    const config: Record<string, unknown> = {
      root: join(dir, "root"),
      node: { hostname: "controller-0", subfunctions: ["controller"] },
      networks: { mgmt: { address: "127.0.0.1", controller: "127.0.0.1" } },
      ports: { agentMgmt, agentPxeboot, hbsCmd, hbsEvent, mtcalarm },
      api: { address: "127.0.0.1", port: api, tokenFile },
      heartbeat: { agents: [{ hostname: "controller-0", address: "127.0.0.1" }] },
      maintenance: { stateDir },
      timeouts: { cmdResponse: 1, hostAddDelay: 20 },
      plugins: { discover: false },
      logging: { level: "info" },
    };
    patch(config);
    return new AgentProcess(dir, config, stateDir);
  }

  writeConfig(): void {
    writeFileSync(this.cfgFile, JSON.stringify(this.config));
  }

  /** Start the agent and wait (bounded) until its API answers; throws with its output if it exits first. */
  async start(limitMs = 150_000): Promise<void> {
    const p = execa(process.execPath, [metalMain, "agent", "--config", this.cfgFile], { reject: false, all: true, buffer: false });
    this.proc = p;
    p.all?.on("data", (d: Buffer) => {
      this.output += d.toString();
    });
    let exited = false;
    void p.then(() => {
      exited = true;
    });
    const end = Date.now() + limitMs;
    while (Date.now() < end && !exited) {
      try {
        const r = await fetch(`${this.url}/v1/hosts`, { signal: AbortSignal.timeout(1000) });
        if (r.ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`agent did not come up (exited: ${exited}):\n${this.output.slice(-3000)}`);
  }

  /** Send a signal and wait (bounded) for the exit; returns the exit code (null when killed by the signal). */
  async stop(signal: NodeJS.Signals = "SIGTERM", limitMs = 15_000): Promise<{ code: number | null | undefined; ms: number }> {
    const p = this.proc;
    if (!p) return { code: undefined, ms: 0 };
    const t0 = Date.now();
    p.kill(signal);
    const r = await Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), limitMs))]);
    if (!r) {
      p.kill("SIGKILL");
      await p;
      this.proc = undefined;
      return { code: undefined, ms: Date.now() - t0 };
    }
    this.proc = undefined;
    return { code: r.exitCode, ms: Date.now() - t0 };
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    o: { token?: string | false; raw?: string | Uint8Array; timeoutMs?: number } = {},
  ): Promise<AgentReply> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (o.token !== false) headers.authorization = `Bearer ${o.token ?? TOKEN}`;
    const payload = o.raw !== undefined ? o.raw : body === undefined ? undefined : JSON.stringify(body);
    const r = await fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(payload !== undefined ? { body: payload as string } : {}),
      signal: AbortSignal.timeout(o.timeoutMs ?? 20_000),
    });
    const text = await r.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
    return { status: r.status, body: parsed };
  }

  async hosts(): Promise<Array<Record<string, unknown> & { hostname: string; queued: string[]; action: string; administrative: string }>> {
    const r = await this.request("GET", "/v1/hosts", undefined, { token: false });
    if (r.status !== 200) throw new Error(`GET /v1/hosts: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.hosts as never;
  }

  async dispose(): Promise<void> {
    if (this.proc) await this.stop("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
