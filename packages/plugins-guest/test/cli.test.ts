import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { readGuestConf } from "../src/cli.js";
import { METAL_MAIN } from "./helpers/processes.js";

const metal = (...args: string[]) => spawnSync(process.execPath, [METAL_MAIN, ...args], { encoding: "utf8", timeout: 60_000 });

test("the guest commands are on the metal CLI with --help", (t) => {
  for (const cmd of ["guest-server", "guest-agent", "guest-client"]) {
    const r = metal(cmd, "--help");
    t.is(r.status, 0, `${cmd}: ${r.stderr}`);
    t.regex(r.stdout, new RegExp(`Usage: metal ${cmd}`));
  }
});

test("bad input exits 2 with a one-line reason", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-guest-cli-"));
  writeFileSync(join(dir, "bad.yaml"), "guest:\n  server:\n    minIntervalMs: 5\n");
  const badConfig = metal("guest-server", "--config", join(dir, "bad.yaml"));
  t.is(badConfig.status, 2);
  t.regex(badConfig.stderr, /^metal: .*guest\.server\.minIntervalMs/m);
  t.is(metal("guest-agent").status, 2, "--config is required");
  const badAction = metal("guest-client", "--device", "/dev/null", "--corrective-action", "explode");
  t.is(badAction.status, 2);
  t.is(badAction.stderr.trim(), "metal: --corrective-action must be reboot, stop or log (got 'explode')");
  t.is(metal("guest-client", "--device", "/dev/null", "--interval-ms", "soon").status, 2);
});

test("guest_heartbeat.conf in the original KEY=VALUE form", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-guest-conf-"));
  const conf = join(dir, "guest_heartbeat.conf");
  writeFileSync(
    conf,
    '# sample\nHB_INTERVAL=1000\nVOTE=8\nSHUTDOWN_NOTICE=8\nRESUME_NOTICE=13\nRESTART=600\nCORRECTIVE_ACTION="stop"\nHEALTH_CHECK_SCRIPT=/usr/bin/check\n',
  );
  t.like(readGuestConf(conf), {
    intervalMs: 1000,
    voteSecs: 8,
    shutdownSecs: 8,
    resumeSecs: 13,
    restartSecs: 600,
    correctiveAction: "stop",
    healthCheckScript: "/usr/bin/check",
  });
  writeFileSync(conf, "CORRECTIVE_ACTION=explode\n");
  t.throws(() => readGuestConf(conf), { message: /CORRECTIVE_ACTION must be reboot, stop or log/ });
});
