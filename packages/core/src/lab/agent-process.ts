import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MetalConfigInput } from "../config/index.js";

const MAIN = join(fileURLToPath(new URL(".", import.meta.url)), "..", "cli", "main.js");

/**
 * One controller's `metal agent` as a real process (the controller pair in the lab, the HA tests and the bench): its
 * config file in `dir`, its output appended to `<dir>/agent.log`. kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT),
 * revive (start again on the same config). `ha()` reads its `GET /v1/ha`.
 */
export class AgentProcess {
  proc: ChildProcess | undefined;
  readonly configFile: string;
  readonly logFile: string;
  paused = false;
  starts = 0;

  constructor(
    readonly hostname: string,
    readonly dir: string,
    readonly apiUrl: string,
    config: MetalConfigInput,
    /** Run through this command prefix, e.g. `["ip", "netns", "exec", NS]` (it must exec, so signals reach the agent). */
    private readonly prefix: string[] = [],
  ) {
    this.configFile = join(dir, `${hostname}.json`);
    this.logFile = join(dir, `${hostname}.log`);
    writeFileSync(this.configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  start(): void {
    if (this.proc) return;
    const out = createWriteStream(this.logFile, { flags: "a" });
    const argv = [process.execPath, MAIN, "agent", "--config", this.configFile];
    const [cmd, ...args] = [...this.prefix, ...argv] as [string, ...string[]];
    const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout?.pipe(out);
    proc.stderr?.pipe(out);
    this.proc = proc;
    this.paused = false;
    this.starts++;
    proc.once("exit", () => {
      if (this.proc === proc) this.proc = undefined;
    });
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    const gone = new Promise<void>((resolve) => p.once("exit", () => resolve()));
    if (this.paused) p.kill("SIGCONT");
    p.kill("SIGKILL");
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    this.proc = undefined;
    this.paused = false;
  }

  pause(): void {
    if (!this.proc || this.paused) return;
    this.proc.kill("SIGSTOP");
    this.paused = true;
  }

  resume(): void {
    if (!this.proc || !this.paused) return;
    this.proc.kill("SIGCONT");
    this.paused = false;
  }

  /** Start again after a kill (no-op while running). */
  revive(): void {
    this.start();
  }

  /** Its `GET /v1/ha` (undefined when it does not answer within 1.5 s). */
  async ha(): Promise<AgentHaView | undefined> {
    try {
      const res = await fetch(`${this.apiUrl}/v1/ha`, { signal: AbortSignal.timeout(1500) });
      return ((await res.json()) as { ha?: AgentHaView }).ha;
    } catch {
      return undefined;
    }
  }

  /** Its `GET /v1/hosts` (undefined when it does not answer). */
  async hosts(): Promise<Array<Record<string, unknown> & { hostname: string }> | undefined> {
    try {
      const res = await fetch(`${this.apiUrl}/v1/hosts`, { signal: AbortSignal.timeout(1500) });
      return ((await res.json()) as { hosts?: Array<Record<string, unknown> & { hostname: string }> }).hosts;
    } catch {
      return undefined;
    }
  }

  /** SIGTERM and wait (bounded), then SIGKILL. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    const gone = new Promise<void>((resolve) => p.once("exit", () => resolve()));
    if (this.paused) p.kill("SIGCONT");
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 5000);
    await Promise.race([gone, new Promise((r) => setTimeout(r, 8000))]);
    clearTimeout(t);
    this.proc = undefined;
  }
}

/** The part of `GET /v1/ha` the harness reads. */
export interface AgentHaView {
  hostname: string;
  role: "active" | "standby";
  acting: boolean;
  reason: string;
  epoch?: number;
  leader?: { hostname: string; epoch: number; api?: string };
  history: Array<{ at: number; kind: string; reason: string; epoch?: number; hostname: string; actingUntil?: number }>;
}
