import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { waitFor } from "./net.js";

/** The built metal CLI (core's main). */
export const METAL_MAIN = fileURLToPath(new URL("../../../../core/dist/src/cli/main.js", import.meta.url));

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Start a process we own; its output is kept for failure messages. Fails loudly when it cannot start. */
export function start(cmd: string, args: string[]): Proc {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("error", (err) => {
      out += `\nspawn error: ${err.message}`;
      resolve(-1);
    });
    child.on("exit", (code) => resolve(code));
  });
  return { child, output: () => out.slice(-4000), exited };
}

export const metal = (...args: string[]) => start(process.execPath, [METAL_MAIN, ...args]);

/** socat bridging QEMU's listening socket to a pty the guest client opens, as in PEERS.md. */
export async function socatChannel(sockPath: string, vport: string): Promise<Proc> {
  const p = start("socat", [`PTY,link=${vport},raw,echo=0`, `UNIX-LISTEN:${sockPath},fork`]);
  const ready = await waitFor(() => existsSync(vport) && existsSync(sockPath), 10_000);
  if (!ready) throw new Error(`socat did not create ${vport} and ${sockPath} (is socat installed? scripts/setup.sh installs it): ${p.output()}`);
  return p;
}

export async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
  await Promise.all(
    procs.map((p) =>
      Promise.race([
        p.exited,
        new Promise((r) =>
          setTimeout(() => {
            if (p.child.exitCode === null) p.child.kill("SIGKILL");
            r(null);
          }, 3000),
        ),
      ]),
    ),
  );
}
