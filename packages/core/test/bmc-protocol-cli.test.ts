/** `metal bmc ...` takes any protocol a loaded plugin registered, not only ipmi/redfish/dynamic. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { execa } from "execa";

const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

test("--protocol fake reaches the fake plugin's driver; an unregistered protocol is named as such", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-bmc-proto-"));
  writeFileSync(join(dir, "pw"), "wrong", { mode: 0o600 });
  // Relative --password-file, resolved against the caller's directory.
  const run = (protocol: string) =>
    execa(
      process.execPath,
      [main, "bmc", "power", "status", "--protocol", protocol, "--bmc", "10.9.9.9", "--user", "u", "--password-file", "pw", "-f", "json"],
      {
        cwd: dir,
        reject: false,
        timeout: 120_000,
        env: { METAL_CONFIG: "" },
      },
    );
  const [fake, acme] = await Promise.all([run("fake"), run("acme")]);
  t.is(fake.exitCode, 1);
  t.notRegex(fake.stderr, /--protocol must be/);
  t.regex((JSON.parse(fake.stderr) as { reason: string }).reason, /^power status: \w+: /, "the driver answered (here: it refused the credentials)");
  t.is(acme.exitCode, 1);
  t.deepEqual(JSON.parse(acme.stderr), { status: "fail", reason: "no plugin provides BMC protocol 'acme'" });
});
