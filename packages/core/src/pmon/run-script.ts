/**
 * Run a recovery or status command (systemctl, an LSB script) with a time limit. The exit is taken at the
 * process's `exit`, not when its output closes: an init script that starts a daemon in the background leaves
 * that daemon holding the inherited descriptors. Never throws; a command that cannot start reports rc 127.
 */
import { spawn } from "node:child_process";

export interface ScriptResult {
  /** Exit code; 127 when it could not be started, 124 when it ran out of time (as timeout(1) says). */
  rc: number;
  /** The first 512 characters the command wrote (stdout then stderr), when `capture` was asked for. */
  output: string;
}

export function runScript(file: string, args: readonly string[], timeoutMs: number, capture = false): Promise<ScriptResult> {
  return new Promise((resolve) => {
    let out = "";
    let settled = false;
    const finish = (rc: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ rc, output: out.trim().slice(0, 512) });
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, [...args], { stdio: ["ignore", capture ? "pipe" : "ignore", capture ? "pipe" : "ignore"] });
    } catch (err) {
      out = (err as Error).message;
      resolve({ rc: 127, output: out });
      return;
    }
    const take = (b: Buffer) => {
      if (out.length < 512) out += b.toString("utf8");
    };
    child.stdout?.on("data", take);
    child.stderr?.on("data", take);
    child.once("error", (err) => {
      out = err.message;
      finish(127);
    });
    child.once("exit", (code, signal) => {
      // Give a captured command's last output a moment to arrive, without waiting on descendants holding the pipe.
      if (capture) setTimeout(() => finish(code ?? (signal ? 128 : 1)), 20);
      else finish(code ?? (signal ? 128 : 1));
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      out ||= `timed out after ${timeoutMs} ms`;
      finish(124);
    }, timeoutMs);
  });
}
