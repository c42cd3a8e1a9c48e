import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** packages/core of this checkout (the test runs from packages/core/dist/test/helpers). */
export const CORE_DIR = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Give `pkgDir` its own copy of `@metal/core` in `pkgDir/node_modules/@metal/core`, as a published plugin that
 * bundles core would have: the package.json, the built plugin contract and the CLI's error module (all a plugin
 * imports; they import nothing else). Its classes (BmcError, PluginError, CliError) are other classes than the
 * ones the running metal uses.
 */
export function bundleOwnCore(pkgDir: string): string {
  const dest = join(pkgDir, "node_modules", "@metal", "core");
  mkdirSync(join(dest, "dist", "src", "cli"), { recursive: true });
  cpSync(join(CORE_DIR, "package.json"), join(dest, "package.json"));
  cpSync(join(CORE_DIR, "dist", "src", "plugin-api"), join(dest, "dist", "src", "plugin-api"), { recursive: true });
  cpSync(join(CORE_DIR, "dist", "src", "cli", "errors.js"), join(dest, "dist", "src", "cli", "errors.js"));
  return dest;
}

/**
 * A BMC plugin package "acme-bmc" outside the workspace, with its own copy of core, speaking protocol `acme`:
 * power and info on an in-memory machine, the password "acme-secret". Address 192.0.2.1 throws an `unreachable`
 * and a wrong password an `auth` BmcError of its own core copy. Its `cli()` adds `metal acme-hello` (prints "hello from acme") and
 * `metal acme-fail [--exit N]` (throws its own core's CliError with exit code N, default 2).
 * Returns the temp base directory (holding `acme-bmc/`, or `node_modules/acme-bmc/` with `inNodeModules`) and
 * the plugin directory.
 */
export function foreignAcmePlugin(inNodeModules = false): { base: string; dir: string } {
  const base = mkdtempSync(join(tmpdir(), "metal-foreign-"));
  const dir = inNodeModules ? join(base, "node_modules", "acme-bmc") : join(base, "acme-bmc");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "acme-bmc", version: "1.0.0", type: "module", main: "index.js", metal: { plugin: { api: 1, provides: ["bmc:acme"] } } }),
  );
  writeFileSync(
    join(dir, "index.js"),
    `import { BmcError, PluginTokens } from "@metal/core/plugin-api";
import { CliError } from "@metal/core/cli/errors";

export const capabilities = { acme: ["power", "info"] };
let power = "off";
function driver(target) {
  const check = () => {
    if (target.address === "192.0.2.1") throw new BmcError("unreachable", "acme: no route to 192.0.2.1", target.host);
    if (target.password.reveal() !== "acme-secret") throw new BmcError("auth", "acme: the BMC refused the credentials", target.host);
  };
  return {
    protocol: "acme",
    supports: (c) => c === "power" || c === "info",
    power: {
      status: async () => (check(), power),
      set: async (a) => { check(); power = a === "off" ? "off" : "on"; },
    },
    info: { get: async () => (check(), { manufacturer: "Acme", model: "A1", serial: "1", firmwareVersion: "1.0", powerState: power }) },
    close: async () => {},
  };
}
export function register(container) {
  container.resolve(PluginTokens.BmcRegistry).register({ protocol: "acme", capabilities: ["power", "info"], create: driver }, "acme-bmc");
}
export function cli(program) {
  program.command("acme-hello").option("-c, --config <file>").action(() => { process.stdout.write("hello from acme\\n"); });
  program.command("acme-fail").option("-c, --config <file>").option("--exit <n>", "exit code", "2").action((o) => { throw new CliError("acme says no", Number(o.exit)); });
}
`,
  );
  bundleOwnCore(dir);
  return { base, dir };
}
