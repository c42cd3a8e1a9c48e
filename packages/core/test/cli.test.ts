import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const metal = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8", timeout: 60_000 });

test("metal plugins --json lists the four plugin packages and the fake with their API version", (t) => {
  const r = metal("plugins", "--json");
  t.is(r.status, 0, r.stderr);
  const list = JSON.parse(r.stdout) as Array<{ name: string; api: number; status: string }>;
  for (const n of ["@metal/plugin-ipmi", "@metal/plugin-redfish", "@metal/plugin-bsp", "@metal/plugin-guest", "@metal/core/fake-bmc"]) {
    const p = list.find((x) => x.name === n);
    t.truthy(p, n);
    t.is(p?.api, 1);
    t.is(p?.status, "loaded");
  }
});

test("metal plugins shows a refused api-2 plugin with its reason and exits non-zero", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-cli-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "acme-next", version: "2.0.0", metal: { plugin: { api: 2, provides: ["bmc:acme"] } } }));
  writeFileSync(join(dir, "cfg.yaml"), `plugins:\n  discover: false\n  load: ["${dir}"]\n`);
  const r = metal("plugins", "--json", "--config", join(dir, "cfg.yaml"));
  t.is(r.status, 1);
  t.regex(r.stderr, /plugin acme-next: declares plugin API 2, but this metal supports API 1; refused/);
  const row = (JSON.parse(r.stdout) as Array<{ name: string; status: string }>).find((x) => x.name === "acme-next");
  t.is(row?.status, "refused");
});

test("metal config check: ok for a good file, exit 2 with a one-line reason for a bad one", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-cli-"));
  writeFileSync(join(dir, "good.yaml"), "heartbeat:\n  periodMs: 200\n");
  writeFileSync(join(dir, "bad.yaml"), "heartbeat:\n  periodMs: 5000\n");
  const good = metal("config", "check", join(dir, "good.yaml"));
  t.is(good.status, 0, good.stderr);
  const bad = metal("config", "check", join(dir, "bad.yaml"));
  t.is(bad.status, 2);
  t.regex(bad.stderr.trim(), /^metal: .*bad\.yaml: heartbeat\.periodMs: heartbeat period must be 100\.\.1000 ms \(got 5000\)$/);
});

test("every command has --help; unknown options and bad values exit non-zero", (t) => {
  for (const cmd of [["plugins"], ["config", "check"], ["lab"]]) t.is(metal(...cmd, "--help").status, 0, cmd.join(" "));
  t.is(metal("--help").status, 0);
  t.is(metal("lab", "--bogus").status, 2);
  const r = metal("lab", "--hosts", "0");
  t.is(r.status, 2);
  t.is(r.stderr.trim(), "metal: --hosts must be an integer 1..254 (got '0')");
  t.is(metal("no-such-command").status, 2);
});

test("metal lab starts controller-0 and the simulated hosts on their own loopback addresses", (t) => {
  const r = metal("lab", "--hosts", "2", "--duration", "2", "--speed", "1", "--json");
  // Two real seconds at speed 1 are not enough for the hosts to be enabled: the lab says which are still in
  // progress, which is not an error of the lab; with --settle it is.
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /^metal lab: time is up with hosts still in progress \(.*worker-0: unlocked-disabled-\w+ \(add\)/m);
  // With --json the environment line goes to stderr (stdout stays one JSON document), and api is in the JSON.
  t.regex(r.stderr, /^export METAL_URL=http:\/\/127\.0\.0\.1:\d+ METAL_TOKEN_FILE=\S+api-token$/m);
  const settled = metal("lab", "--hosts", "1", "--duration", "2", "--speed", "1", "--settle", "--json");
  t.is(settled.status, 1);
  t.regex(settled.stderr, /^metal lab: not every host settled/m);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    hosts: Array<{ hostname: string; address: string; machine: string }>;
    api: { url: string; tokenFile: string };
  };
  t.false(out.ok);
  t.regex(out.api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.regex(out.api.tokenFile, /api-token$/);
  t.deepEqual(
    out.hosts.map((h) => [h.hostname, h.address, h.machine]),
    [
      ["controller-0", "127.0.1.1", "up"],
      ["worker-0", "127.0.1.2", "up"],
      ["worker-1", "127.0.1.3", "up"],
    ],
  );
});

test("metal lab at a high speed: the scheduler tick stays valid and the host is enabled", (t) => {
  const r = metal("lab", "--hosts", "1", "--speed", "50", "--settle", "--duration", "45", "--json");
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ok: boolean; hosts: Array<{ hostname: string; operational: string; availability: string }> };
  t.true(out.ok);
  t.deepEqual(
    out.hosts.map((h) => [h.hostname, h.operational, h.availability]),
    [
      ["controller-0", "enabled", "available"],
      ["worker-0", "enabled", "available"],
    ],
  );
});
