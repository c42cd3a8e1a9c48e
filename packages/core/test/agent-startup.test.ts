/**
 * `metal agent` refuses an unsafe start with one line and a non-zero exit, before it binds anything (issue 11):
 * blank, whitespace-only, group/world-readable or missing token file; a non-loopback API without allowRemote.
 * And what it cleans up at start: BMC secret temp dirs a killed agent left behind.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { execa } from "execa";
import { AgentProcess, metalMain } from "./support/agent-process.js";

const cases: Array<{ name: string; setup: (a: AgentProcess) => void; reason: RegExp }> = [
  { name: "an empty token file", setup: (a) => writeToken(a, "", 0o600), reason: /empty/ },
  { name: "a token file holding only a newline", setup: (a) => writeToken(a, "\n", 0o600), reason: /empty/ },
  { name: "a whitespace-only token file", setup: (a) => writeToken(a, "  \t \n", 0o600), reason: /empty/ },
  { name: "a 0644 token file", setup: (a) => writeToken(a, "tok\n", 0o644), reason: /mode 644/ },
  { name: "a 0640 token file", setup: (a) => writeToken(a, "tok\n", 0o640), reason: /mode 640/ },
  {
    name: "a missing token file",
    setup: (a) => {
      (a.config.api as { tokenFile: string }).tokenFile = join(a.dir, "no-such-token");
      a.writeConfig();
    },
    reason: /ENOENT/,
  },
  {
    name: "api.address 0.0.0.0 without api.allowRemote",
    setup: (a) => {
      (a.config.api as { address: string }).address = "0.0.0.0";
      a.writeConfig();
    },
    reason: /allowRemote/,
  },
];

function writeToken(a: AgentProcess, text: string, mode: number): void {
  const f = (a.config.api as { tokenFile: string }).tokenFile;
  writeFileSync(f, text);
  chmodSync(f, mode);
}

for (const c of cases) {
  test.serial(`metal agent refuses to start with ${c.name}: one line, exit non-zero, nothing bound`, async (t) => {
    const a = await AgentProcess.create();
    t.teardown(() => a.dispose());
    c.setup(a);
    const r = await execa(process.execPath, [metalMain, "agent", "--config", a.cfgFile], { reject: false, timeout: 150_000 });
    t.not(r.exitCode, 0);
    t.false(r.timedOut, "it exited by itself");
    const lines = `${r.stdout}\n${r.stderr}`.split("\n").filter((l) => l.trim());
    t.is(lines.length, 1, lines.join("\n"));
    t.regex(lines[0] ?? "", c.reason);
    t.notRegex(r.stdout, /listening|running/);
  });
}

test("stale metal-ipmi-* secret dirs of dead processes are removed at start; a live process's dir is kept", async (t) => {
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
  const stale = join(tmpdir(), `metal-ipmi-${dead}-t${process.pid}`);
  const live = join(tmpdir(), `metal-ipmi-${process.pid}-t${process.pid}`);
  for (const d of [stale, live]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
    writeFileSync(join(d, "pw"), "plaintext-password", { mode: 0o600 });
  }
  const a = await AgentProcess.create();
  t.teardown(async () => {
    await a.dispose();
    spawnSync("rm", ["-rf", stale, live]);
  });
  await a.start();
  t.false(existsSync(stale), "the dead process's password dir is gone");
  t.true(existsSync(join(live, "pw")), "a running process's dir is left alone");
  t.regex(a.output, /removed stale BMC secret temp dirs/);
});
