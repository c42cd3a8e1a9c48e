/**
 * Driving the lab from another terminal, as an operator would: `metal lab` (stdout not a terminal) prints the
 * environment line first, then one line per host state change and alarm; the `metal host-*` commands find the
 * lab's API and token through METAL_URL / METAL_TOKEN_FILE alone.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { execa, type ResultPromise } from "execa";

const main = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");

/** The lab's stdout, line by line, with a bounded wait for a line that matches. */
class Lines {
  readonly all: string[] = [];
  private waiters: Array<() => void> = [];
  private partial = "";
  constructor(proc: ResultPromise) {
    proc.stdout?.on("data", (d: Buffer) => {
      const parts = (this.partial + d.toString("utf8")).split("\n");
      this.partial = parts.pop() ?? "";
      this.all.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async waitFor(re: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.all.find((l) => re.test(l));
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no line matching ${re} within ${timeoutMs} ms; got:\n${this.all.join("\n")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 500);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

test("the lab prints its environment line and state-change lines; host-lock/host-show/alarm-list work with that environment alone", async (t) => {
  const lab = execa(process.execPath, [main, "lab", "--hosts", "1", "--speed", "10", "--duration", "300"], { reject: false, env: { NO_COLOR: "" } });
  t.teardown(() => {
    lab.kill("SIGKILL");
  });
  const lines = new Lines(lab);
  const envLine = await lines.waitFor(/^export /, 60_000);
  const m = /^export METAL_URL=(http:\/\/127\.0\.0\.1:\d+) METAL_TOKEN_FILE=(\S+)$/.exec(envLine);
  t.truthy(m, envLine);
  const [, url, tokenFile] = m as unknown as [string, string, string];
  t.is(lines.all[0], envLine, "the environment line comes first");
  t.is(statSync(tokenFile).mode & 0o777, 0o600, "the token file is 0600");
  await lines.waitFor(/^\d+\.\d worker-0 unlocked-enabled-available$/, 150_000);

  const env = { METAL_URL: url, METAL_TOKEN_FILE: tokenFile, METAL_CONFIG: "" };
  const metal = (...args: string[]) => execa(process.execPath, [main, ...args], { reject: false, env, timeout: 120_000 });
  const lock = await metal("host-lock", "worker-0");
  t.is(lock.exitCode, 0, lock.stderr);
  t.regex(lock.stdout, /worker-0: lock (accepted|queued)/);
  await lines.waitFor(/^\d+\.\d worker-0 locked-disabled-online$/, 120_000);
  await lines.waitFor(/^\d+\.\d worker-0 alarm 200\.001 warning /, 30_000);
  const show = await metal("host-show", "worker-0", "--json");
  t.is(show.exitCode, 0, show.stderr);
  t.like(JSON.parse(show.stdout), { hostname: "worker-0", administrative: "locked", operational: "disabled" });
  const alarms = await metal("alarm-list", "--json");
  t.true((JSON.parse(alarms.stdout) as Array<{ id: string; hostname: string }>).some((a) => a.id === "200.001" && a.hostname === "worker-0"));
  // Without the token the same action is refused: the environment is what authorises it.
  const anon = await execa(process.execPath, [main, "host-unlock", "worker-0"], {
    reject: false,
    env: { METAL_URL: url, METAL_TOKEN_FILE: "", METAL_CONFIG: "" },
  });
  t.is(anon.exitCode, 1);
  t.regex(anon.stderr, /bearer token/);

  lab.kill("SIGINT");
  const done = await lab;
  t.regex(String(done.stdout), /metal lab: final host states/);
});
