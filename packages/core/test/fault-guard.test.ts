/**
 * A daemon outlives the bug that slipped through: a stray rejection and a throw from a timer callback are one
 * line each on stderr (rate-limited), and the process keeps running until its SIGTERM (cli/fault-guard.ts,
 * installed by every daemon's StopSignal).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import test from "ava";

const stopSignal = fileURLToPath(new URL("../src/cli/stop-signal.js", import.meta.url));

/** A stand-in daemon: creates its StopSignal as every daemon does, then faults three times and keeps a tick. */
const daemon = `
import { StopSignal } from ${JSON.stringify(stopSignal)};
const signal = new StopSignal();
Promise.reject(new Error("nobody awaited me"));
Promise.reject(new Error("nobody awaited me"));
setTimeout(() => { throw new TypeError("a callback's bug"); }, 10);
let ticks = 0;
const tick = setInterval(() => { ticks++; if (ticks === 20) process.stdout.write("still serving\\n"); }, 10);
signal.thenExit("stand-in", async () => clearInterval(tick));
`;

test("a stray rejection and an uncaught throw are one line each; the daemon keeps serving and stops on SIGTERM", async (t) => {
  const child = spawn(process.execPath, ["--input-type=module", "-e", daemon], { stdio: ["ignore", "pipe", "pipe"] });
  t.teardown(() => child.kill("SIGKILL"));
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes("still serving")) child.kill("SIGTERM");
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => {
    const bound = setTimeout(() => resolve(-1), 120_000); // a generous bound for a loaded machine
    child.on("exit", (c) => {
      clearTimeout(bound);
      resolve(c);
    });
  });
  t.is(code, 0, err);
  t.true(out.includes("still serving"), "it kept running after the faults");
  const lines = err.trim().split("\n");
  t.deepEqual(lines, [
    "metal: unhandled rejection (kept running): Error: nobody awaited me",
    "metal: uncaught exception (kept running): TypeError: a callback's bug",
    "metal: stand-in stopping (SIGTERM)",
  ]);
});
