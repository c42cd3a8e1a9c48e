import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { LAB_REBOOT_EXIT_CODE } from "../src/client/lab-node-actions.js";
import { SystemdNodeActions } from "../src/client/systemd-node-actions.js";
import { silentLogger } from "../src/logging/logger.js";
import { startPair } from "./helpers/client-process.js";

test("systemd NodeActions run systemctl, wipedisk and the SysRq trigger with fixed argv", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-actions-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const calls = join(dir, "calls");
  for (const tool of ["systemctl", "sync", "wipedisk"]) writeFileSync(join(dir, tool), `#!/bin/sh\necho "${tool} $*" >> "${calls}"\n`, { mode: 0o755 });
  const trigger = join(dir, "sysrq-trigger");
  const a = new SystemdNodeActions(silentLogger(), { binDirs: [dir], wipedisk: join(dir, "wipedisk"), sysrqTrigger: trigger });
  await a.stopPmon();
  await a.reboot("test");
  await a.reset("test");
  await a.wipedisk("test");
  await a.sync();
  await a.sysrq("b");
  t.deepEqual(readFileSync(calls, "utf8").trim().split("\n"), [
    "systemctl stop pmon",
    "systemctl reboot",
    "systemctl reboot --force",
    "wipedisk --force",
    "systemctl reboot --force",
    "sync",
  ]);
  t.is(readFileSync(trigger, "utf8"), "b");
  t.true((await a.uptimeSeconds()) > 0);
  // cryptsetup: a failing status is LUKS_VOL_FAILED.
  writeFileSync(join(dir, "cryptsetup"), `#!/bin/sh\necho "cryptsetup $*" >> "${calls}"\nexit 4\n`, { mode: 0o755 });
  t.true(await a.luksVaultFailed());
  t.regex(readFileSync(calls, "utf8"), /cryptsetup status luks_encrypted_vault/);
});

test("a reboot command to a real lab client: ACK, then the host goes down with /var/run wiped", async (t) => {
  const p = await startPair(t, { hostIp: "127.0.1.69" });
  await p.waitFor((m) => m.kind === "mtcAlive");
  t.is(await p.agent.command("worker-1", "locked", { parms: [1] }), 1, "the LOCKED ACK echoes LOCK_PERSIST");
  const exited = new Promise<number | null>((r) => p.client.once("exit", (code) => r(code)));
  t.is(await p.agent.command("worker-1", "reboot"), 0, "ACKed before going down");
  t.is(await exited, LAB_REBOOT_EXIT_CODE);
  t.false(existsSync(p.paths.nodeLocked), "the volatile node-locked file went with /var/run");
  t.true(existsSync(p.paths.nodeLockedPersist), "the persistent one survives the reboot");
  t.regex(readFileSync(join(p.root, "lab", "last-reboot"), "utf8"), /^reboot MTC_CMD_REBOOT/);
});
