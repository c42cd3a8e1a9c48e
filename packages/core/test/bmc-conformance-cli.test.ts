import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { foreignAcmePlugin } from "./helpers/foreign-plugin.js";

/**
 * `metal bmc conformance` against a plugin outside the workspace that bundles its own copy of core: relative
 * --password-file and -c are where the operator stands, the result is one JSON document (or one line per check)
 * and never an ava stack trace.
 */
const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const metal = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8", timeout: 400_000, env: { ...process.env, NO_COLOR: "1" } });

interface Result {
  status: string;
  protocol: string;
  passed: number;
  failed: number;
  tests: Array<{ title: string; status: string; reason?: string }>;
}

function rig() {
  const { base } = foreignAcmePlugin();
  writeFileSync(join(base, "metal.yaml"), `plugins:\n  discover: false\n  load: ["./acme-bmc"]\n`);
  writeFileSync(join(base, "pw"), "acme-secret\n", { mode: 0o600 });
  writeFileSync(join(base, "wrong-pw"), "nope\n", { mode: 0o600 });
  return base;
}

const args = (pw: string) => [
  "bmc",
  "conformance",
  "--protocol",
  "acme",
  "--bmc",
  "127.0.0.1:623",
  "--user",
  "admin",
  "--password-file",
  pw,
  "-c",
  "metal.yaml",
];

test("conformance --json: a passing plugin with its own core copy, relative files from the cwd, one JSON document", (t) => {
  const base = rig();
  const r = metal(base, ...args("pw"), "--json");
  t.notRegex(r.stdout + r.stderr, /^\s+at /m, "no stack trace");
  const result = JSON.parse(r.stdout) as Result;
  t.is(result.status, "pass", JSON.stringify(result.tests.filter((x) => x.status === "fail")));
  t.is(r.status, 0);
  t.is(result.protocol, "acme");
  t.is(result.failed, 0);
  t.true(result.passed >= 4, `power, info, the wrong password, close (got ${result.passed})`);
  t.true(result.tests.some((x) => /wrong password|auth/i.test(x.title) && x.status === "pass"));
});

test("conformance with failing checks: exit 1, one line per check with its reason, no stack trace", (t) => {
  const base = rig();
  const r = metal(base, ...args("wrong-pw"));
  t.is(r.status, 1, r.stderr);
  t.notRegex(r.stdout + r.stderr, /^\s+at |node_modules\/ava/m, "no stack trace");
  const lines = r.stdout.trim().split("\n");
  t.regex(lines.at(-1) ?? "", /^conformance acme@127\.0\.0\.1:623: fail, \d+ passed, [1-9]\d* failed, \d+ skipped$/);
  t.true(
    lines.some((l) => /^fail {2}.*: .*code: 'auth'/.test(l)),
    r.stdout,
  );
});

test("conformance for a protocol no plugin provides: one line, exit 1, no test run", (t) => {
  const base = rig();
  const r = metal(
    base,
    "bmc",
    "conformance",
    "--protocol",
    "acme2",
    "--bmc",
    "127.0.0.1",
    "--user",
    "admin",
    "--password-file",
    "pw",
    "-c",
    "metal.yaml",
    "--json",
  );
  t.is(r.status, 1);
  t.is(r.stdout, "");
  t.deepEqual(JSON.parse(r.stderr), { status: "fail", reason: "no plugin provides BMC protocol 'acme2' (loaded: fake, acme)" });
});
