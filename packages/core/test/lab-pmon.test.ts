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
  // The hbsClient crash did not reboot the host; the critical failure did (the enable's reboot).
  const crit = at("critical", "labsvc") as number;
  const failedAfterCrit = result.history.some((e) => e.host === "worker-0" && e.atS >= crit && e.text.includes("'unlocked-disabled-failed'"));
  t.true(failedAfterCrit, "the host failed on the critical process");
  t.true((w?.boots ?? 0) >= 2, `booted at start and again after the critical failure (boots ${w?.boots})`);
  const hbsCrash = at("crashed", "hbsClient") as number;
  t.false(
    result.history.some((e) => e.host === "worker-0" && e.atS >= hbsCrash && e.text.includes("offline")),
    "the hbsClient crash did not take the host down",
  );
  t.false(
    result.alarms.some((a) => a.id === "200.006"),
    "no process alarm left: pmond's ready event after the reboot dropped it",
  );
});
