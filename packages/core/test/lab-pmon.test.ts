/**
 * The lab with pmond on every machine (issue 13): mtcClient and hbsClient run as pmond's children. Crashing the
 * worker's hbsClient gets it restarted without a reboot and the host ends available; crashing a critical process
 * with restarts=0 fails the host, which is re-enabled through a reboot. The --json report lists each host's pmon
 * events.
 */
import test from "ava";
import { labState, runLab } from "./helpers/lab-run.js";

test("crash hbsClient → restarted, no reboot; crash a critical restarts=0 process → failed, rebooted, enabled again", async (t) => {
  const { exitCode, result, stderr } = await runLab(
    [
      "--speed",
      "10",
      "--hosts",
      "1",
      "--duration",
      "160",
      "--settle",
      "--pmon",
      "--pmon-conf",
      "labsvc:severity=critical,restarts=0",
      // The critical crash first, while the host is surely in service; the hbsClient crash once it is back.
      "--do",
      "ready+5:crash-process worker-0 labsvc",
      "--do",
      "ready+400:crash-process worker-0 hbsClient",
    ],
    170_000,
  );
  t.is(exitCode, 0, stderr);
  t.true(result.ok);
  const w = result.hosts.find((h) => h.hostname === "worker-0");
  const events = w?.pmon ?? [];
  const at = (event: string, process: string) => events.find((e) => e.event === event && e.process === process)?.atS;
  t.truthy(at("crashed", "hbsClient"), JSON.stringify(events));
  t.truthy(at("log", "hbsClient"), "pmond restarted hbsClient (MTC_EVENT_PMON_LOG)");
  t.truthy(at("critical", "labsvc"), "MTC_EVENT_PMON_CRIT for the restarts=0 critical process");
  t.is(labState(result, "worker-0"), "unlocked-enabled-available");
  // One time base: the lab notes the crash in the same turn as the step that did it.
  const killed = at("crashed", "labsvc") as number;
  const stepAt = result.steps.find((s) => s.step.includes("crash-process worker-0 labsvc"))?.atS as number;
  t.true(Math.abs(killed - stepAt) <= 0.1, `crash noted at ${killed} s, its step ran at ${stepAt} s`);
  const before = result.history.filter((e) => e.host === "worker-0" && e.atS <= killed && e.text.includes("is now '"));
  t.true(before.at(-1)?.text.includes("'unlocked-enabled-available'"), `in service when labsvc was killed: ${before.at(-1)?.text}`);
  // The critical failure (nothing else happened to the host after the kill) failed the host and the enable rebooted it;
  // the hbsClient crash did not reboot it.
  const failedAfterKill = result.history.some((e) => e.host === "worker-0" && e.atS >= killed && e.text.includes("'unlocked-disabled-failed'"));
  t.true(failedAfterKill, `the host failed on the critical process: ${JSON.stringify(result.history)}`);
  const bootsAfterKill = (w?.bootTimesS ?? []).filter((b) => b > killed);
  t.true(bootsAfterKill.length >= 1, `booted again after the critical failure (boots at ${w?.bootTimesS})`);
  const hbsCrash = at("crashed", "hbsClient") as number;
  t.true(
    (w?.bootTimesS ?? []).every((b) => b < hbsCrash),
    `no boot after the hbsClient crash (boots at ${w?.bootTimesS})`,
  );
  t.false(
    result.history.some((e) => e.host === "worker-0" && e.atS >= hbsCrash && e.text.includes("offline")),
    "the hbsClient crash did not take the host down",
  );
  t.false(
    result.alarms.some((a) => a.id === "200.006"),
    "no process alarm left: pmond's ready event after the reboot dropped it",
  );
});

test("--no-pmon: one process per host, no pmon report, crash-process refused; --pmon-conf with --no-pmon is a usage error", async (t) => {
  const { exitCode, result, stderr } = await runLab(
    ["--speed", "10", "--hosts", "1", "--duration", "120", "--no-pmon", "--do", "ready+1:!crash-process worker-0 hbsClient"],
    150_000,
  );
  t.is(exitCode, 0, stderr);
  t.is(labState(result, "worker-0"), "unlocked-enabled-available");
  t.deepEqual(
    result.refused.map((e) => [e.step, e.reason]),
    [["ready+1:!crash-process worker-0 hbsClient", "this lab runs no pmond"]],
  );
  t.true(
    result.hosts.every((h) => h.pmon === undefined),
    "no pmon events without pmond",
  );
  const usage = await runLab(["--no-pmon", "--pmon-conf", "labsvc:restarts=0"], 60_000).catch((err: Error) => err);
  t.true(usage instanceof Error && /--pmon-conf needs pmond/.test(usage.message), String(usage));
});
