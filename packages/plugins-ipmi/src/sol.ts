import { existsSync } from "node:fs";
import { BmcError, type BmcTarget, type ConsoleStream } from "@metal/core/plugin-api";
import { execa, type ResultPromise } from "execa";
import type { Ipmitool } from "./ipmitool.js";

const BANNER = /\[SOL Session operational\.[^\]]*\]\r?\n?/;

/**
 * IPMI Serial-over-LAN through `ipmitool sol activate`: the host's console bytes arrive on stdout, what is
 * written goes to stdin. Closing sends ipmitool's escape (~.), then `sol deactivate` frees the payload so
 * the next activate is not refused as "already active".
 */
export class SolConsole implements ConsoleStream {
  private readonly listeners: Array<(chunk: Buffer) => void> = [];
  private bannerSeen = false;
  private closed = false;

  private constructor(
    private readonly target: BmcTarget,
    private readonly tool: Ipmitool,
    private readonly child: ResultPromise,
    private readonly onClosed: () => void,
  ) {
    child.stdout?.on("data", (chunk: Buffer) => this.deliver(chunk));
    child.catch(() => {});
  }

  static async open(target: BmcTarget, tool: Ipmitool, onClosed: () => void): Promise<SolConsole> {
    // A payload left active by a crashed client would refuse us; deactivating an idle one is harmless.
    await tool.run(["sol", "deactivate"]).catch(() => {});
    const { file, args, env } = tool.commandLine(["sol", "activate"]);
    // ipmitool block-buffers a pipe; unbuffered, console bytes arrive as the host writes them.
    const unbuffered = existsSync("/usr/bin/stdbuf");
    const child = execa(unbuffered ? "/usr/bin/stdbuf" : file, unbuffered ? ["-o0", file, ...args] : args, {
      env,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      reject: false,
    });
    const sol = new SolConsole(target, tool, child, onClosed);
    await sol.waitOperational();
    return sol;
  }

  private waitOperational(): Promise<void> {
    return new Promise((resolve, reject) => {
      let err = "";
      const timer = setTimeout(() => fail(new BmcError("timeout", "SOL did not become operational within 15 s", this.target.host)), 15_000);
      const fail = (e: BmcError) => {
        clearTimeout(timer);
        this.child.kill("SIGKILL");
        reject(e);
      };
      this.child.stderr?.on("data", (c: Buffer) => {
        err += c.toString();
      });
      this.child.stdout?.on("data", (c: Buffer) => {
        if (BANNER.test(c.toString()) || this.bannerSeen) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.child.once("exit", () => {
        const line = err.split("\n").find((l) => l.trim() && !/tcgetattr/.test(l)) ?? "ipmitool exited";
        fail(new BmcError(/establish/i.test(line) ? "unreachable" : "protocol", `SOL: ${line.trim()}`, this.target.host));
      });
    });
  }

  private deliver(chunk: Buffer): void {
    if (this.closed) return;
    let data = chunk;
    if (!this.bannerSeen) {
      const text = chunk.toString("latin1");
      const m = BANNER.exec(text);
      if (!m) return;
      this.bannerSeen = true;
      data = Buffer.from(text.slice(m.index + m[0].length), "latin1");
      if (data.length === 0) return;
    }
    for (const l of this.listeners) l(data);
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.listeners.push(listener);
  }

  async write(data: Buffer | string): Promise<void> {
    if (this.closed) throw new BmcError("protocol", "console is closed", this.target.host);
    const stdin = this.child.stdin;
    if (!stdin) throw new BmcError("protocol", "SOL has no input", this.target.host);
    await new Promise<void>((resolve, reject) => stdin.write(data, (e) => (e ? reject(e) : resolve())));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.child.stdin?.end("\r~.");
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once("exit", () => resolve());
    });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 2_000);
    await exited;
    clearTimeout(timer);
    await this.tool.run(["sol", "deactivate"]).catch(() => {});
    this.onClosed();
  }
}
