/**
 * Issue 14 item 1, replayed as the StarlingX bug report did: lock a worker, power it off through its BMC, unlock it.
 * The enable asks the BMC for the power state first and powers the host on at once, so it is enabled about one
 * power-on + boot + enable after the unlock — not after five unanswered reboots and the 300 s BMC-reset delay (and the
 * lab's BMC, like a real one, does not boot an off server on a reset).
 */
import test from "ava";
import { labState, labWhen, runLab } from "./helpers/lab-run.js";

test.serial("unlock of a powered-off host powers it on through the BMC first and enables it within a boot", async (t) => {
  // One process per machine (--no-pmon): the measure is maintenance's, not three Node starts on a loaded machine.
  const { exitCode, result, stderr } = await runLab([
    "--no-pmon",
    "--hosts",
    "2",
    "--speed",
    "20",
    "--boot",
    "20",
    "--duration",
    "150",
    "--do",
    "ready+5:lock worker-0",
    "--do",
    "ready+40:power-off worker-0",
    "--do",
    "ready+90:unlock worker-0",
  ]);
  t.is(exitCode, 0, stderr);
  t.deepEqual(result.refused, []);
  t.is(labState(result, "worker-0"), "unlocked-enabled-available");
  const unlockAt = result.steps.find((s) => s.step.includes("unlock"))?.atS ?? Number.NaN;
  const offAt = labWhen(result, "worker-0", "'locked-disabled-power-off'");
  t.truthy(offAt !== undefined && offAt < unlockAt, "powered off before the unlock");
  const enabledAt = labWhen(result, "worker-0", "'unlocked-enabled-available'", unlockAt);
  t.truthy(enabledAt, JSON.stringify(result.history.filter((e) => e.host === "worker-0")));
  // One power-on (30 s verify at most), a 20 s boot, the mtcAlive purge, goenabled and the 11 s soak: well under
  // bmc_reset_delay (300 s), which is what it took before.
  t.true((enabledAt as number) - unlockAt < 150, `enabled ${(enabledAt as number) - unlockAt} lab s after the unlock`);
});
