/**
 * The CLI's output conventions (the `system` / `baremetal` habits): -f table|json|yaml|value|csv and --column
 * on read commands, colour only on a terminal and never with NO_COLOR, errors as JSON on stderr when JSON was
 * asked for.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import test from "ava";
import { parse as parseYaml } from "yaml";
import { argvWantsJson } from "../src/cli/output.js";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const metal = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [main, ...args], { encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "", ...env } });
const ESC = "\x1b[";

test("a read command as a table (no colour in a pipe) and as json; --json is -f json", (t) => {
  const table = metal(["fsm", "list"]);
  t.is(table.status, 0, table.stderr);
  t.regex(table.stdout, /│ name\s+│ stages │ description/);
  t.false(table.stdout.includes(ESC), "no colour in a pipe");
  const json = JSON.parse(metal(["fsm", "list", "-f", "json"]).stdout) as Array<{ name: string; stages: number }>;
  t.true(json.some((h) => h.name === "enable" && h.stages > 5));
  t.deepEqual(JSON.parse(metal(["fsm", "list", "--json"]).stdout), json, "--json is -f json");
});

test("-f yaml, value, csv and --column", (t) => {
  const json = JSON.parse(metal(["fsm", "list", "-f", "json"]).stdout) as Array<{ name: string; stages: number }>;
  t.deepEqual(parseYaml(metal(["fsm", "list", "-f", "yaml"]).stdout), json);
  const value = metal(["fsm", "list", "-f", "value", "--column", "stages", "--column", "name"]).stdout.trim().split("\n");
  t.is(value.length, json.length);
  t.true(value.includes(`${json.find((h) => h.name === "enable")?.stages} enable`));
  const csv = metal(["fsm", "list", "--format", "csv"]).stdout.split("\n");
  t.is(csv[0], "name,stages,description");
  t.regex(csv[1] ?? "", /^add,\d+,"add a host, or recover/, "a field with a comma is quoted");
});

test("--column picks fields in json too; plugins as csv", (t) => {
  const picked = JSON.parse(metal(["fsm", "list", "-f", "json", "--column", "name"]).stdout) as object[];
  t.deepEqual(Object.keys(picked[0] ?? {}), ["name"]);
  const plugins = metal(["plugins", "-f", "csv", "--column", "name", "--column", "status"]);
  t.is(plugins.status, 0, plugins.stderr);
  t.regex(plugins.stdout, /^name,status\n(.*\n)*@metal\/plugin-ipmi,loaded$/m);
});

test("bad -f or --column: exit 2 with a reason naming the choices", (t) => {
  const f = metal(["fsm", "list", "-f", "xml"]);
  t.is(f.status, 2);
  t.regex(f.stderr, /Allowed choices are table, json, yaml, value, csv/);
  const c = metal(["fsm", "list", "--column", "nope"]);
  t.is(c.status, 2);
  t.is(c.stderr.trim(), "metal: --column: no field named 'nope' (fields: name, stages, description)");
});

test("colour only on a terminal, and never with NO_COLOR", (t) => {
  // util-linux script(1) gives the command a pseudo-terminal. TERM is unset, as on a CI runner: a terminal is
  // a terminal whatever TERM says.
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(main)} fsm list`;
  const tty = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "", TERM: undefined } });
  t.is(tty.status, 0, tty.stderr);
  t.true(tty.stdout.includes(ESC), "coloured on a terminal");
  const noColor = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } });
  t.is(noColor.status, 0, noColor.stderr);
  t.regex(noColor.stdout, /│ name/);
  t.false(noColor.stdout.includes(ESC), "NO_COLOR on a terminal: no colour");
});

test("errors are {status: fail, reason} on stderr when the format is json; a line otherwise", (t) => {
  const down = metal(["host-list", "--url", "http://127.0.0.1:1", "-f", "json"]);
  t.is(down.status, 1);
  t.is(down.stdout, "");
  const e = JSON.parse(down.stderr) as { status: string; reason: string };
  t.is(e.status, "fail");
  t.regex(e.reason, /^cannot reach the mtcAgent API at http:\/\/127\.0\.0\.1:1/);
  const usage = metal(["host-list", "--bogus", "--json"]);
  t.is(usage.status, 2);
  t.deepEqual(JSON.parse(usage.stderr), { status: "fail", reason: "unknown option '--bogus'" });
  const plain = metal(["host-list", "--url", "http://127.0.0.1:1"]);
  t.regex(plain.stderr, /^metal: cannot reach/);
});

test("argvWantsJson: --json, -f json, -fjson, --format json, --format=json; nothing after --", (t) => {
  for (const a of [["--json"], ["-f", "json"], ["-fjson"], ["--format", "json"], ["--format=json"], ["host-list", "-f", "json", "--column", "x"]])
    t.true(argvWantsJson(a), a.join(" "));
  for (const a of [[], ["-f", "yaml"], ["--", "--json"], ["--format", "csv"], ["json"]]) t.false(argvWantsJson(a), a.join(" "));
});
