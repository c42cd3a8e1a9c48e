import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { BmcBroker } from "../src/bmc/broker.js";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { defaultConfig } from "../src/config/load.js";
import { createMetalContainer } from "../src/di/container.js";
import { discoverPlugins } from "../src/di/discovery.js";
import { loadPlugin } from "../src/di/loader.js";
import { secretFromString } from "../src/di/secret.js";
import { Tokens } from "../src/di/tokens.js";
import { silentLogger } from "../src/logging/logger.js";
import { BmcError } from "../src/plugin-api/bmc.js";
import type { LoadedPlugin } from "../src/plugin-api/plugin.js";
import { wrongPasswordIsAuthError } from "../src/testing/bmc-conformance.js";
import { foreignAcmePlugin } from "./helpers/foreign-plugin.js";

/**
 * A published plugin bundles its own copy of @metal/core: its BmcError/PluginError/CliError are other classes.
 * The conformance suite, the broker, the CLI and the loader recognise its errors by their stable `code`.
 */
const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const metal = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8", timeout: 240_000, env: { ...process.env, NO_COLOR: "1" } });

async function acmeContainer() {
  const { base, dir } = foreignAcmePlugin();
  const plugin = await loadPlugin(discoverPlugins({ discover: false, explicit: [dir] }).candidates[0]!);
  const c = await createMetalContainer({ config: defaultConfig(), clock: new VirtualClock(), logger: silentLogger(), plugins: [plugin] });
  return { base, dir, factory: c.resolve(Tokens.BmcRegistry).get("acme") };
}

const acmeTarget = (password: string, address = "127.0.0.1") => ({ host: "acme-0", address, username: "admin", password: secretFromString(password) });

test("the conformance suite accepts the auth error of a plugin's own copy of core (by code, not class)", async (t) => {
  const { factory } = await acmeContainer();
  const foreign = await factory
    .create(acmeTarget("wrong"))
    .power!.status()
    .catch((e: unknown) => e);
  t.false(foreign instanceof BmcError, "the plugin's BmcError is another class than this core's");
  await wrongPasswordIsAuthError(t, {
    name: "acme",
    capabilities: factory.capabilities,
    connect: () => factory.create(acmeTarget("acme-secret")),
    connectWithWrongPassword: () => factory.create(acmeTarget("wrong")),
  });
});

test("the broker counts a foreign plugin's errors by code and opens its circuit on access faults", async (t) => {
  const { factory } = await acmeContainer();
  const broker = new BmcBroker(
    "acme-0",
    factory.create(acmeTarget("acme-secret", "192.0.2.1")),
    { ratePerSec: 100, burst: 100, maxConcurrent: 1, breakerThreshold: 3, breakerOpenMs: 20_000 },
    new VirtualClock(),
  );
  for (let i = 0; i < 3; i++) await t.throwsAsync(broker.driver.power!.status());
  t.is(broker.metrics.failuresByCode.unreachable, 3);
  t.is(broker.breakerState, "open");
});

test("metal bmc with a foreign plugin's protocol: its auth error exits 1 with the code in the one line", (t) => {
  const { base, dir } = foreignAcmePlugin();
  writeFileSync(join(base, "metal.yaml"), `plugins:\n  discover: false\n  load: ["${dir}"]\n`);
  writeFileSync(join(base, "pw"), "wrong\n", { mode: 0o600 });
  const r = metal(base, "bmc", "power", "status", "--protocol", "acme", "--bmc", "127.0.0.1", "--user", "admin", "--password-file", "pw", "-c", "metal.yaml");
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /^metal: power status: auth: acme: the BMC refused the credentials$/m);
});

/** A plugin package (plain JS, no core import) in a temp dir; returns its directory. */
function plainPackage(name: string, provides: string[], source: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "metal-plugin-")), name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name, version: "0.0.1", type: "module", main: "index.js", metal: { plugin: { api: 1, provides } } }),
  );
  writeFileSync(join(dir, "index.js"), source);
  return dir;
}

async function register(dirs: string[]) {
  const plugins: LoadedPlugin[] = [];
  for (const c of discoverPlugins({ discover: false, explicit: dirs }).candidates) plugins.push(await loadPlugin(c));
  const refused: string[] = [];
  const c = await createMetalContainer({
    config: defaultConfig(),
    clock: new VirtualClock(),
    logger: silentLogger(),
    plugins,
    onRefused: (_p, err) => refused.push(err.message),
  });
  return { c, refused, loaded: c.resolve(Tokens.Plugins).map((p) => p.name) };
}

const ACME_FACTORY = (protocol: string) =>
  `{ protocol: "${protocol}", capabilities: ["power"], create: () => ({ protocol: "${protocol}", supports: (x) => x === "power", power: { status: async () => "on", set: async () => {} }, close: async () => {} }) }`;

test("a plugin that registers nothing it declares (no service, no cli) is refused with the reason", async (t) => {
  const dir = plainPackage("metal-plugin-idle", ["bsp"], "export function register() {}");
  const r = await register([dir]);
  t.deepEqual(r.refused, ["plugin metal-plugin-idle: declares 'bsp' but registered nothing for it"]);
  t.false(r.loaded.includes("metal-plugin-idle"));
});

test("a plugin that registers one of two declared protocols is refused and leaves nothing registered", async (t) => {
  const dir = plainPackage(
    "metal-plugin-half",
    ["bmc:halfa", "bmc:halfb"],
    `export const capabilities = { halfa: ["power"], halfb: ["power"] };
export function register(c) { c.resolve(Symbol.for("metal:bmc-registry")).register(${ACME_FACTORY("halfa")}, "metal-plugin-half"); c.register(Symbol.for("metal:half-service"), { useValue: 1 }); }`,
  );
  const r = await register([dir]);
  t.deepEqual(r.refused, ["plugin metal-plugin-half: declares 'bmc:halfb' but registered no BMC driver factory for it"]);
  t.false(r.c.resolve(Tokens.BmcRegistry).has("halfa"), "none half-loaded: its other protocol is not registered either");
  t.false(r.c.isRegistered(Symbol.for("metal:half-service"), true), "nor its service");
});

test("a plugin whose register() throws its own core's PluginError keeps that message", async (t) => {
  const dir = plainPackage(
    "metal-plugin-picky",
    ["bmc:picky"],
    `export const capabilities = { picky: ["power"] };
class PluginError extends Error { name = "PluginError"; code = "plugin"; constructor(plugin, m) { super("plugin " + plugin + ": " + m); this.plugin = plugin; } }
export function register() { throw new PluginError("metal-plugin-picky", "needs settings.endpoint"); }`,
  );
  const r = await register([dir]);
  t.deepEqual(r.refused, ["plugin metal-plugin-picky: needs settings.endpoint"]);
});

test("metal plugins marks a plugin that registers nothing as refused, with the reason, and exits 1", (t) => {
  const dir = plainPackage("metal-plugin-idle", ["bsp"], "export function register() {}");
  const base = join(dir, "..");
  writeFileSync(join(base, "metal.yaml"), `plugins:\n  discover: false\n  load: ["${dir}"]\n`);
  const r = metal(base, "plugins", "-f", "json", "-c", "metal.yaml");
  t.is(r.status, 1, r.stderr);
  const row = (JSON.parse(r.stdout) as Array<{ name: string; status: string; reason?: string }>).find((x) => x.name === "metal-plugin-idle");
  t.is(row?.status, "refused");
  t.is(row?.reason, "plugin metal-plugin-idle: declares 'bsp' but registered nothing for it");
  t.regex(r.stderr, /metal: plugin metal-plugin-idle: declares 'bsp' but registered nothing for it/);
});

test("plugins.load by package name: found in node_modules next to the config file from any cwd, its cli() commands run", (t) => {
  const { base } = foreignAcmePlugin(true);
  mkdirSync(join(base, "etc"));
  writeFileSync(join(base, "etc", "metal.yaml"), `plugins:\n  discover: false\n  load: ["acme-bmc"]\n`);
  const elsewhere = mkdtempSync(join(tmpdir(), "metal-cwd-"));
  const hello = metal(elsewhere, "acme-hello", "-c", join(base, "etc", "metal.yaml"));
  t.is(hello.status, 0, hello.stderr);
  t.is(hello.stdout, "hello from acme\n");
  const listed = metal(elsewhere, "plugins", "-f", "json", "-c", join(base, "etc", "metal.yaml"));
  t.is(listed.status, 0, listed.stderr);
  t.deepEqual(
    (JSON.parse(listed.stdout) as Array<{ name: string; status: string }>).find((p) => p.name === "acme-bmc"),
    { name: "acme-bmc", version: "1.0.0", api: 1, provides: ["bmc:acme"], capabilities: { acme: ["power", "info"] }, source: "config", status: "loaded" },
  );
});

test("plugins.load by package name through NODE_PATH and $METAL_CONFIG; a plugin command's own CliError sets the exit code", (t) => {
  const { base } = foreignAcmePlugin(true);
  const cfgDir = mkdtempSync(join(tmpdir(), "metal-cfg-"));
  writeFileSync(join(cfgDir, "metal.yaml"), `plugins:\n  discover: false\n  load: ["acme-bmc"]\n`);
  const env = { ...process.env, NO_COLOR: "1", NODE_PATH: join(base, "node_modules"), METAL_CONFIG: join(cfgDir, "metal.yaml") };
  const hello = spawnSync(process.execPath, [main, "acme-hello"], { cwd: tmpdir(), env, encoding: "utf8", timeout: 240_000 });
  t.is(hello.stdout, "hello from acme\n", hello.stderr);
  const fail = spawnSync(process.execPath, [main, "acme-fail", "--exit", "3"], { cwd: tmpdir(), env, encoding: "utf8", timeout: 240_000 });
  t.is(fail.status, 3, fail.stderr);
  t.is(fail.stderr, "metal: acme says no\n");
});

test("a relative plugins.load directory is relative to the config file, not the cwd", (t) => {
  const { base } = foreignAcmePlugin();
  writeFileSync(join(base, "metal.yaml"), `plugins:\n  discover: false\n  load: ["./acme-bmc"]\n`);
  writeFileSync(join(base, "pw"), "acme-secret\n", { mode: 0o600 });
  const elsewhere = mkdtempSync(join(tmpdir(), "metal-cwd-"));
  const ok = metal(
    elsewhere,
    "bmc",
    "power",
    "status",
    "--protocol",
    "acme",
    "--bmc",
    "127.0.0.1",
    "--user",
    "admin",
    "--password-file",
    join(base, "pw"),
    "-c",
    join(base, "metal.yaml"),
  );
  t.is(ok.status, 0, ok.stderr);
  t.is(ok.stdout, "off\n");
});
