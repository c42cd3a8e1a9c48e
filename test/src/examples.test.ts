import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";

/**
 * Every example in examples/ is run as its README says (`bash examples/NAME/run.sh`) and must exit 0 with the
 * lines that show it worked. A new example folder with a run.sh is picked up here; one without an entry in
 * EXPECT fails, so none goes unchecked.
 */
const examples = fileURLToPath(new URL("../../examples/", import.meta.url));
const EXPECT: Record<string, RegExp[]> = {
  "bmc-plugin-skeleton": [/^metal-bmc-acme loaded$/m, /^on$/m, /^conformance acme@127\.0\.0\.1:\d+: pass, 11 passed, 0 failed, 0 skipped$/m],
  "bsp-standard": [/^wrote 6 host\(s\)/m, /^grub menus: 6 UEFI host menus pass grub-script-check$/m, /^6 dhcp-host entries$/m, /kickstart\.cfg: ok/],
  rvmc: [/^subcloud1: installed$/m, /^subcloud2: installed$/m],
  "loopback-cluster": [/^worker-0 unlocked-enabled-available$/m, /^worker-1 locked-disabled-online$/m, /^forged lock from 127\.0\.0\.1 not obeyed/m],
};

function run(script: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    // A bound on the whole example (the scripts bound their own waits); SIGTERM lets its trap clean up.
    const killer = setTimeout(() => child.kill("SIGTERM"), 840_000);
    child.once("close", (code) => {
      clearTimeout(killer);
      resolve({ code, out });
    });
  });
}

const dirs = readdirSync(examples, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(examples, d.name, "run.sh")));

test("every example has expectations here", (t) => {
  t.deepEqual(
    dirs.map((d) => d.name).filter((n) => !EXPECT[n]),
    [],
  );
});

for (const d of dirs) {
  test.serial(`examples/${d.name}/run.sh`, async (t) => {
    t.timeout(900_000);
    const r = await run(join(examples, d.name, "run.sh"));
    t.is(r.code, 0, r.out);
    for (const re of EXPECT[d.name] ?? []) t.regex(r.out, re);
    t.notRegex(r.out, /acme-secret|calvin/, "no password in any output");
  });
}
