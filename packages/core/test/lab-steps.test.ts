/**
 * The lab's own means (issue 14): machine actions behind maintenance's back, refused steps in the report, and what a
 * power action does to a simulated machine's volatile files. Fast settings (speed x20, 10 s boots) keep it short.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { labState, runLab } from "./helpers/lab-run.js";

test.serial(
  "lab: a refused --do step is reported with its reason and fails the run; a lab power-off clears /var/run; a simplex lock is not persistent",
  async (t) => {
    const { exitCode, result, stderr } = await runLab([
      "--hosts",
      "2",
      "--speed",
      "20",
      "--boot",
      "10",
      "--duration",
      "120",
      "--keep",
      "--do",
      "ready+2:lock worker-0",
      "--do",
      "ready+3:reboot worker-1",
      "--do",
      "ready+4:bmc-off worker-1",
      "--do",
      "ready+5:bmc-on worker-1",
      "--do",
      "ready+30:set-flag worker-0 lab-marker",
      "--do",
      "ready+35:power-off worker-0",
      "--do",
      "ready+60:power-on worker-0",
    ]);
    const w0 = result.hosts.find((h) => h.hostname === "worker-0");
    t.teardown(() => rmSync(join(w0?.root ?? "/nonexistent", ".."), { recursive: true, force: true }));
    // The reboot of an in-service host is refused by maintenance: in the report, with the reason; the run fails.
    t.is(exitCode, 1, stderr);
    t.false(result.ok);
    t.deepEqual(
      result.refused.map((e) => [e.step, e.reason, e.expectRefused]),
      [["ready+3:reboot worker-1", "Cannot perform out-of-service action against in-service host", false]],
    );
    t.regex(stderr, /step 'ready\+3:reboot worker-1' was refused/);
    t.is(result.steps.length, 7);
    t.true(result.steps.filter((e) => e.step !== "ready+3:reboot worker-1").every((e) => e.outcome === "done"));
    // worker-0: locked, then powered off and on through its BMC: the boot after the power-off starts with an empty
    // /var/run (the marker is gone), the lock comes back from the agent's LOCKED audit, and — one controller, never
    // duplex — the lock is not persistent.
    t.is(labState(result, "worker-0"), "locked-disabled-online");
    t.true((w0?.boots ?? 0) >= 2, "booted again after the power-on");
    t.false(existsSync(join(w0?.root ?? "/nonexistent", "var/run/lab-marker")), "the power-off cleared /var/run");
    t.true(existsSync(join(w0?.root ?? "/nonexistent", "var/run/.node_locked")));
    t.false(existsSync(join(w0?.root ?? "/nonexistent", "var/persist/mtc/.node_locked")));
    // The alarm history has the lock alarm's raise.
    t.true(result.alarmHistory.some((a) => a.id === "200.001" && a.host === "worker-0" && a.operation === "set" && a.severity === "warning"));
  },
);
