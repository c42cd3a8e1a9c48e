import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { defaultConfig } from "../src/config/load.js";
import { createMetalContainer, loadConfiguredPlugins } from "../src/di/container.js";
import { discoverPlugins } from "../src/di/discovery.js";
import { loadPlugin } from "../src/di/loader.js";
import { Tokens } from "../src/di/tokens.js";
import { silentLogger } from "../src/logging/logger.js";

/** Write a plugin package into a temp node_modules and return its directory. */
function fakePackage(name: string, manifest: object, source: string): string {
  const base = mkdtempSync(join(tmpdir(), "metal-plugin-"));
  const dir = join(base, "node_modules", ...name.split("/"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, version: "1.2.3", type: "module", main: "index.js", metal: manifest }));
  writeFileSync(join(dir, "index.js"), source);
  return dir;
}

const GOOD = `export const capabilities = { acme: ["power"] };
export function register(c) {
  c.resolve(Symbol.for("metal:bmc-registry")).register({
    protocol: "acme", capabilities: ["power"],
    create: () => ({ protocol: "acme", supports: (x) => x === "power", power: { status: async () => "on", set: async () => {} }, close: async () => {} }),
  }, "@acme/metal-bmc");
}`;

test("a plugin declaring api 2 is refused with a clear error naming it, before its code runs", async (t) => {
  const dir = fakePackage("@acme/future", { plugin: { api: 2, provides: ["bmc:acme"] } }, "throw new Error('must not be imported');");
  const { candidates } = discoverPlugins({ discover: false, explicit: [dir] });
  t.is(candidates.length, 1);
  const err = await t.throwsAsync(loadPlugin(candidates[0]!));
  t.regex(err!.message, /@acme\/future/);
  t.regex(err!.message, /plugin API 2.*supports API 1/);
});

test("a plugin is discovered from node_modules and registers its BMC protocol", async (t) => {
  const dir = fakePackage("@acme/metal-bmc", { plugin: { api: 1, provides: ["bmc:acme"] } }, GOOD);
  const cwd = join(dir, "..", "..", "..");
  const { candidates } = discoverPlugins({ discover: true, explicit: [], cwd, workspaceRoot: "/nonexistent" });
  t.deepEqual(
    candidates.map((c) => [c.name, c.source]),
    [["@acme/metal-bmc", "node_modules"]],
  );
  const plugin = await loadPlugin(candidates[0]!);
  const c = await createMetalContainer({ config: defaultConfig(), clock: new VirtualClock(), logger: silentLogger(), plugins: [plugin] });
  const registry = c.resolve(Tokens.BmcRegistry);
  t.deepEqual(registry.list(), [{ protocol: "acme", plugin: "@acme/metal-bmc", capabilities: ["power"] }]);
  const err = t.throws(() =>
    registry.connect("acme", { host: "h", address: "a", username: "u", password: { reveal: () => "", toJSON: () => "", toString: () => "" } }, [
      "virtualMedia",
    ]),
  );
  t.regex(err!.message, /@acme\/metal-bmc.*lacks capability 'virtualMedia'/);
});

test("a plugin without register() is refused", async (t) => {
  const dir = fakePackage("metal-plugin-empty", { plugin: { api: 1, provides: ["bsp"] } }, "export const x = 1;");
  const { candidates } = discoverPlugins({ discover: false, explicit: [dir] });
  const err = await t.throwsAsync(loadPlugin(candidates[0]!));
  t.regex(err!.message, /metal-plugin-empty: does not export register/);
});

test("a plugin that declares bmc:x but registers nothing is refused", async (t) => {
  const dir = fakePackage(
    "metal-plugin-liar",
    { plugin: { api: 1, provides: ["bmc:liar"] } },
    "export const capabilities = { liar: ['power'] }; export function register() {}",
  );
  const plugin = await loadPlugin(discoverPlugins({ discover: false, explicit: [dir] }).candidates[0]!);
  const refused: string[] = [];
  const c = await createMetalContainer({
    config: defaultConfig(),
    clock: new VirtualClock(),
    logger: silentLogger(),
    plugins: [plugin],
    onRefused: (_p, err) => refused.push(err.message),
  });
  t.is(refused.length, 1);
  t.regex(refused[0]!, /metal-plugin-liar: declares 'bmc:liar' but registered no BMC driver factory/);
  t.deepEqual(
    c.resolve(Tokens.Plugins).map((p) => p.name),
    [],
    "a refused plugin is not listed as loaded",
  );
});

test("a plugin may register only inside register()", async (t) => {
  const dir = fakePackage(
    "metal-plugin-late",
    { plugin: { api: 1, provides: ["personality:late"] } },
    "let saved; export function register(c) { saved = c; } export function later() { saved.register(Symbol.for('x'), { useValue: 1 }); }",
  );
  const plugin = await loadPlugin(discoverPlugins({ discover: false, explicit: [dir] }).candidates[0]!);
  await createMetalContainer({ config: defaultConfig(), clock: new VirtualClock(), logger: silentLogger(), plugins: [plugin] });
  const later = (plugin.module as unknown as { later: () => void }).later;
  t.throws(later, { message: /metal-plugin-late: registered a service after register\(\) returned/ });
});

test("an explicitly named plugin that does not exist is reported by name", (t) => {
  const { problems } = discoverPlugins({ discover: false, explicit: ["@nobody/nothing"], cwd: tmpdir() });
  t.is(problems.length, 1);
  t.regex(problems[0]!, /^plugin @nobody\/nothing: not found \(looked in node_modules next to the config file/);
});

test("the workspace's four plugin packages are discovered with API 1", async (t) => {
  const { plugins, errors } = await loadConfiguredPlugins(defaultConfig());
  t.deepEqual(errors, []);
  const names = plugins.map((p) => `${p.name}@${p.api}`);
  for (const n of ["@metal/plugin-ipmi@1", "@metal/plugin-redfish@1", "@metal/plugin-bsp@1", "@metal/plugin-guest@1", "@metal/core/fake-bmc@1"])
    t.true(names.includes(n), n);
});
