import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Two connected pseudo-terminals from socat: what is written to one end is read from the other. Tests give
 * one end to the code under test as its "serial line" (or to ipmi_sim as the SOL device) and play the host
 * on the other.
 */
export class PtyPair {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly a: string,
    readonly b: string,
  ) {}

  static async open(): Promise<PtyPair> {
    const dir = mkdtempSync(join(tmpdir(), "metal-pty-"));
    const a = join(dir, "ttyA");
    const b = join(dir, "ttyB");
    const child = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr?.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    for (let i = 0; i < 100; i++) {
      if (existsSync(a) && existsSync(b)) return new PtyPair(child, dir, a, b);
      const e = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), 50))]);
      if (e || child.exitCode !== null) break;
    }
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`socat did not create a pty pair (is the socat package installed?) ${err.trim()}`);
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
