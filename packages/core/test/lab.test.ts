/**
 * The lab as real processes: `metal lab` runs controller-0's mtcAgent, messaging and hbsAgent; every host is a
 * process with the real mtcClient and hbsClient; reboots take simulated time (speed x10).
 * Steps are timed from the moment every host is first in service (`ready+T`) and the lab ends once the hosts
 * settle (`--settle`), so a loaded machine makes the runs longer, not wrong.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { runLab, labState as state, labWent as went } from "./helpers/lab-run.js";

const lab = (...args: string[]) => runLab(["--speed", "10", ...args], 200_000);

test.serial("every host reaches unlocked-enabled-available: two controllers, a storage host and two workers", async (t) => {
  const { exitCode, result, stderr } = await lab("--controllers", "2", "--storage", "1", "--hosts", "2", "--duration", "150");
  t.is(exitCode, 0, stderr);
  t.true(result.ok);
  t.truthy(result.readyAtS);
  t.deepEqual(
    result.hosts.map((h) => [h.hostname, state(result, h.hostname), h.task]),
    [
      ["controller-0", "unlocked-enabled-available", ""],
      ["controller-1", "unlocked-enabled-available", ""],
      ["storage-0", "unlocked-enabled-available", ""],
      ["worker-0", "unlocked-enabled-available", ""],
      ["worker-1", "unlocked-enabled-available", ""],
    ],
  );
  t.deepEqual(result.alarms, []);
  // The enable rebooted each added host (a second boot of its machine) and tested it before enabling it.
  for (const h of ["controller-1", "storage-0", "worker-0", "worker-1"]) {
    t.true((result.hosts.find((x) => x.hostname === h)?.boots ?? 0) >= 2, `${h} was rebooted by its enable`);
    t.true(went(result, h, "unlocked-disabled-intest"), `${h} ran its in-service tests`);
  }
  t.is(result.hosts.find((x) => x.hostname === "controller-0")?.boots, 1, "the active controller was not rebooted");
});

test.serial(
  "lock → locked-disabled-online, 200.001, the volatile node-locked file (simplex: no persistent one); reboot and power off/on a locked host; unlock → enabled; kill → failed → recovered on revive",
  async (t) => {
    const { exitCode, result, stderr } = await lab(
      "--hosts",
      "3",
      "--duration",
      "180",
      "--keep",
      "--do",
      "ready+10:lock worker-2",
      "--do",
      "ready+10:lock worker-0",
      "--do",
      "ready+10:kill worker-1",
      "--do",
      "ready+60:unlock worker-0",
      "--do",
      "ready+80:revive worker-1",
      "--do",
      "ready+30:reboot worker-2",
      "--do",
      "ready+90:power-off worker-2",
      "--do",
      "ready+110:power-on worker-2",
    );
    t.is(exitCode, 0, stderr);
    // worker-2: locked, rebooted, powered off and on through its BMC; still locked (the persistent file restores
    // the volatile one at every boot).
    const w2 = result.hosts.find((h) => h.hostname === "worker-2");
    t.is(state(result, "worker-2"), "locked-disabled-online");
    t.is(w2?.boots, 4, "first boot, the enable's reboot, the admin reboot, the power-on");
    t.true(went(result, "worker-2", "locked-disabled-offline"), "down for the admin reboot");
    t.true(went(result, "worker-2", "locked-disabled-power-off"));
    t.true(result.alarms.some((a) => a.id === "200.001" && a.hostname === "worker-2" && a.severity === "warning"));
    t.true(existsSync(join(w2?.root ?? "/nonexistent", "var/run/.node_locked")), "/var/run/.node_locked");
    // One controller: the system has never been duplex (/etc/platform/simplex), so the lock is not persistent.
    t.false(existsSync(join(w2?.root ?? "/nonexistent", "var/persist/mtc/.node_locked")), "no /var/persist/mtc/.node_locked on a simplex system");
    // worker-0: locked, then unlocked: enabled again, lock alarm gone, files gone.
    const w0 = result.hosts.find((h) => h.hostname === "worker-0");
    t.true(went(result, "worker-0", "locked-disabled-online"));
    t.is(state(result, "worker-0"), "unlocked-enabled-available");
    t.false(result.alarms.some((a) => a.id === "200.001" && a.hostname === "worker-0"));
    t.false(existsSync(join(w0?.root ?? "/nonexistent", "var/run/.node_locked")));
    // worker-1: killed → failed; revived → recovered.
    t.true(went(result, "worker-1", "unlocked-disabled-failed"), JSON.stringify(result.history.filter((e) => e.host === "worker-1")));
    t.is(state(result, "worker-1"), "unlocked-enabled-available");
    t.false(
      result.alarms.some((a) => a.hostname === "worker-1"),
      "worker-1's alarms cleared after recovery",
    );
    rmSync(join(w2?.root ?? "/nonexistent", ".."), { recursive: true, force: true });
  },
);
