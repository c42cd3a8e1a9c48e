/**
 * Issue 14 item 2 (SM's unhealthy flag) and the duplex half of item 3, on a two-controller lab: SM's
 * `/var/run/.sm_node_unhealthy` on the standby controller for longer than 6 mtcAlive periods fails controller-1 and
 * recovers it by reboot (the reboot clears the volatile flag); a shorter blip is ignored. A system that has had two
 * controllers is not simplex: a lock there is persistent (/var/persist/mtc/.node_locked).
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { labState, labWhen, runLab } from "./helpers/lab-run.js";

test.serial("SM unhealthy on controller-1 for more than 6 mtcAlives fails it and recovers it by reboot; a short blip is ignored", async (t) => {
  const { exitCode, result, stderr } = await runLab([
    "--controllers",
    "2",
    "--hosts",
    "1",
    "--speed",
    "20",
    "--boot",
    "20",
    "--duration",
    "170",
    "--keep",
    "--do",
    "ready+5:set-flag controller-1 .sm_node_unhealthy",
    "--do",
    "ready+15:clear-flag controller-1 .sm_node_unhealthy",
    "--do",
    "ready+20:lock worker-0",
    "--do",
    "ready+60:set-flag controller-1 .sm_node_unhealthy",
  ]);
  const w0 = result.hosts.find((h) => h.hostname === "worker-0");
  t.teardown(() => rmSync(join(w0?.root ?? "/nonexistent", ".."), { recursive: true, force: true }));
  t.is(exitCode, 0, stderr);
  const setAt = result.steps.find((s) => s.step.startsWith("ready+60"))?.atS ?? Number.NaN;
  const blipAt = result.steps.find((s) => s.step.startsWith("ready+5"))?.atS ?? Number.NaN;
  const failedAt = labWhen(result, "controller-1", "'unlocked-disabled-failed'", blipAt);
  t.truthy(failedAt, JSON.stringify(result.history.filter((e) => e.host === "controller-1")));
  t.true((failedAt as number) >= setAt + 25, `the 10 s blip was ignored; failed ${(failedAt as number) - setAt} lab s after the flag stayed`);
  t.true((failedAt as number) < setAt + 90, "failed within a few mtcAlives past the debounce");
  t.is(labState(result, "controller-1"), "unlocked-enabled-available", "recovered");
  t.true((result.hosts.find((h) => h.hostname === "controller-1")?.boots ?? 0) >= 2, "by a reboot");
  t.is(labState(result, "controller-0"), "unlocked-enabled-available");
  // Two controllers: not simplex, so the lock is persistent.
  t.is(labState(result, "worker-0"), "locked-disabled-online");
  t.true(existsSync(join(w0?.root ?? "/nonexistent", "var/persist/mtc/.node_locked")));
});
