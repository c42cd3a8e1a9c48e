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
  // --duration is in lab seconds (÷10 on the wall): long enough for a loaded machine; the teardown ends it.
  const lab = execa(process.execPath, [main, "lab", "--hosts", "1", "--speed", "10", "--duration", "3000"], { reject: false, env: { NO_COLOR: "" } });
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
  // --wait returns once the host is locked, with progress lines on stderr.
  const lock = await metal("host-lock", "worker-0", "--wait", "--timeout", "120");
  t.is(lock.exitCode, 0, lock.stderr);
  t.is(lock.stdout.trim(), "worker-0: lock done (locked-disabled-online)");
  t.regex(lock.stderr, /^worker-0: lock accepted; waiting/m);
  t.regex(lock.stderr, /^worker-0: locked-disabled-online none$/m, "a progress line with the state reached");
  await lines.waitFor(/^\d+\.\d worker-0 locked-disabled-online$/, 30_000);
  await lines.waitFor(/^\d+\.\d worker-0 alarm 200\.001 warning /, 30_000);
  const show = await metal("host-show", "worker-0", "--json");
  t.is(show.exitCode, 0, show.stderr);
  t.like(JSON.parse(show.stdout), { hostname: "worker-0", administrative: "locked", operational: "disabled", availability: "online" });
  const value = await metal("host-show", "worker-0", "-f", "value", "--column", "administrative", "--column", "availability");
  t.is(value.stdout, "locked\nonline");
  const alarms = await metal("alarm-list", "-f", "csv", "--column", "id", "--column", "entityId", "--column", "severity");
  t.regex(alarms.stdout, /^id,entityId,severity\n(.*\n)*200\.001,host=worker-0,warning$/m);
  // Without the token the same action is refused: the environment is what authorises it; -f json → JSON error.
  const anon = await execa(process.execPath, [main, "host-unlock", "worker-0", "-f", "json"].slice(0, 3), {
    reject: false,
    env: { METAL_URL: url, METAL_TOKEN_FILE: "", METAL_CONFIG: "" },
  });
  t.is(anon.exitCode, 1);
  t.is(anon.stderr, "metal: missing or wrong bearer token");
  const anonJson = await execa(process.execPath, [main, "host-unlock", "worker-0", "--json"], {
    reject: false,
    env: { METAL_URL: url, METAL_TOKEN_FILE: "", METAL_CONFIG: "" },
  });
  t.is(anonJson.exitCode, 1);
  t.deepEqual(JSON.parse(anonJson.stderr), { status: "fail", reason: "missing or wrong bearer token" });
  // A second lock is refused at once, whatever --wait says.
  const again = await metal("host-lock", "worker-0", "--wait");
  t.is(again.exitCode, 1);
  t.is(again.stderr, "metal: worker-0 is already locked");
  const unlock = await metal("host-unlock", "worker-0", "--wait", "--timeout", "150");
  t.is(unlock.exitCode, 0, unlock.stderr);
  t.is(unlock.stdout.trim(), "worker-0: unlock done (unlocked-enabled-available)");
  await lines.waitFor(/^\d+\.\d worker-0 alarm 200\.001 clear /, 30_000);

  lab.kill("SIGINT");
  const done = await lab;
  t.regex(String(done.stdout), /metal lab: final host states/);
});
