/**
 * StarlingX field cases replayed in the lab (issue 14): a small table of scenarios from the original project's bug
 * history, each run as `metal lab --json --settle` and checked against what the original does, so a regression in
 * any of them fails CI. Speed x20, 20 s boots and one process per machine (--no-pmon: these are maintenance's cases,
 * pmond's are in lab-pmon) keep each run to well under a minute of wall time.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LabResult } from "@metal/core/lab/maintenance-lab";
import test, { type ExecutionContext } from "ava";
import { execa } from "execa";

const METAL = fileURLToPath(import.meta.resolve("@metal/core/cli/main"));

interface FieldCase {
  name: string;
  args: string[];
  check(t: ExecutionContext, r: LabResult): void;
}

const host = (r: LabResult, name: string) => r.hosts.find((h) => h.hostname === name);
const stateOf = (r: LabResult, name: string) => {
  const h = host(r, name);
  return h ? `${h.administrative}-${h.operational}-${h.availability}` : "missing";
};
const stepAt = (r: LabResult, prefix: string) => r.steps.find((s) => s.step.startsWith(prefix))?.atS ?? Number.NaN;
const after = (r: LabResult, name: string, fromS: number) => r.history.filter((e) => e.host === name && e.atS >= fromS).map((e) => e.text);
const firstAt = (r: LabResult, name: string, text: string) => r.history.find((e) => e.host === name && e.text.includes(text))?.atS ?? Number.NaN;
const bootsFrom = (r: LabResult, name: string, fromS: number) => host(r, name)?.bootTimesS.filter((b) => b >= fromS) ?? [];

// Agent settings a case needs (--config F): a shorter bmc_reset_delay keeps the BMC reset case quick.
const configDir = mkdtempSync(join(tmpdir(), "metal-field-cases-"));
const BMC_RESET_DELAY_S = 120;
const shortResetDelay = join(configDir, "bmc-reset-delay.json");
writeFileSync(shortResetDelay, JSON.stringify({ timeouts: { bmcResetDelay: BMC_RESET_DELAY_S } }));
test.after.always(() => rmSync(configDir, { recursive: true, force: true }));

const CASES: FieldCase[] = [
  {
    name: "MNFA: two workers lose mgmt at once → degraded, not failed; healed → graceful recovery without a reboot",
    args: [
      "--hosts",
      "3",
      "--do",
      "ready+5:cut worker-0 mgmt",
      "--do",
      "ready+5:cut worker-1 mgmt",
      "--do",
      "ready+100:heal worker-0 mgmt",
      "--do",
      "ready+100:heal worker-1 mgmt",
    ],
    check: (t, r) => {
      const cutAt = stepAt(r, "ready+5:cut worker-0");
      for (const w of ["worker-0", "worker-1"]) {
        const seen = after(r, w, cutAt);
        t.true(
          seen.some((x) => x.includes("'unlocked-enabled-degraded'")),
          `${w} degraded while cut: ${seen.join(", ")}`,
        );
        t.false(
          seen.some((x) => x.includes("disabled")),
          `${w} never failed nor re-enabled (MNFA held it): ${seen.join(", ")}`,
        );
        t.is(stateOf(r, w), "unlocked-enabled-available");
        t.deepEqual(
          host(r, w)?.bootTimesS.filter((b) => b >= cutAt),
          [],
          `${w} was not rebooted`,
        );
      }
      t.true(
        r.alarmHistory.some((a) => a.id === "200.005" && a.host === "worker-0" && a.severity === "critical"),
        "heartbeat loss alarm raised",
      );
      t.false(
        r.alarms.some((a) => a.id === "200.005"),
        "and cleared",
      );
      t.deepEqual(after(r, "worker-2", cutAt), [], "the third worker was not touched");
    },
  },
  {
    name: "DOR: a power outage takes every machine down; the controller comes back in dead office recovery and no host is rebooted by maintenance",
    args: ["--hosts", "2", "--do", "ready+5:power-outage 30"],
    check: (t, r) => {
      const outAt = stepAt(r, "ready+5:power-outage");
      for (const h of r.hosts) {
        t.is(stateOf(r, h.hostname), "unlocked-enabled-available", h.hostname);
        // Booted once, with the power's return: maintenance rebooted no host. (The lab's controller used to keep acting
        // for a moment after its power went: it failed a worker it saw vanish and the next life rebooted it.)
        t.deepEqual(h.bootTimesS.filter((b) => b >= outAt).length, 1, `${h.hostname} booted exactly once after the outage: ${h.bootTimesS.join(", ")}`);
        t.false(
          after(r, h.hostname, outAt).some((x) => x.includes("failed") || x.includes("heartbeat loss")),
          `${h.hostname} was not failed: ${after(r, h.hostname, outAt).join(", ")}`,
        );
      }
      t.deepEqual(
        r.alarmHistory.filter((a) => a.atS >= outAt && a.id === "200.004"),
        [],
        "no host failed",
      );
      t.deepEqual(r.alarms, []);
    },
  },
  {
    name: "lock/unlock soak with a reboot while locked: node-locked file across lock, reboot and unlock; lock alarm raised and cleared each time",
    args: [
      "--hosts",
      "1",
      "--keep",
      "--do",
      "ready+5:lock worker-0",
      "--do",
      "ready+30:reboot worker-0",
      "--do",
      "ready+90:unlock worker-0",
      "--do",
      "ready+170:lock worker-0",
      "--do",
      "ready+190:unlock worker-0",
    ],
    check: (t, r) => {
      const w = host(r, "worker-0");
      t.teardown(() => rmSync(join(w?.root ?? "/nonexistent", ".."), { recursive: true, force: true }));
      const seen = after(r, "worker-0", stepAt(r, "ready+5:lock"));
      t.true(
        seen.some((x) => x.includes("'locked-disabled-offline'")),
        `rebooted while locked: ${seen.join(", ")}`,
      );
      t.is(stateOf(r, "worker-0"), "unlocked-enabled-available");
      t.false(existsSync(join(w?.root ?? "/nonexistent", "var/run/.node_locked")));
      t.false(existsSync(join(w?.root ?? "/nonexistent", "var/persist/mtc/.node_locked")));
      const lockAlarm = r.alarmHistory.filter((a) => a.id === "200.001" && a.host === "worker-0").map((a) => a.operation);
      t.deepEqual(lockAlarm, ["set", "clear", "set", "clear"]);
      t.deepEqual(r.alarms, []);
    },
  },
  {
    name: "lock during add: a lock that arrives while the host is still being added leaves it locked-disabled, never enabled",
    args: ["--hosts", "2", "--do", "3:lock worker-0"],
    check: (t, r) => {
      t.is(stateOf(r, "worker-0"), "locked-disabled-online");
      t.false(
        r.history.some((e) => e.host === "worker-0" && e.text.includes("enabled")),
        `worker-0 was never enabled: ${after(r, "worker-0", 0).join(", ")}`,
      );
      t.deepEqual(
        r.alarms.map((a) => [a.id, a.hostname]),
        [["200.001", "worker-0"]],
        "only the lock alarm is active",
      );
      t.is(stateOf(r, "worker-1"), "unlocked-enabled-available", "the other host was added as usual");
    },
  },
  {
    name: "swact: no heartbeat alarm and no host state change over a controller swact",
    args: ["--controllers", "2", "--hosts", "1", "--do", "ready+5:swact controller-0"],
    check: (t, r) => {
      const swactAt = stepAt(r, "ready+5:swact");
      t.deepEqual(
        r.alarmHistory.filter((a) => a.atS >= swactAt && (a.id === "200.005" || a.id === "200.009")),
        [],
        "no heartbeat alarm",
      );
      for (const h of ["controller-1", "worker-0"]) {
        t.deepEqual(after(r, h, swactAt), [], `${h} untouched by the swact`);
        t.is(stateOf(r, h), "unlocked-enabled-available");
      }
      t.deepEqual(r.alarms, []);
    },
  },
  {
    name: "BMC reset only after bmc_reset_delay, and cancelled when the host comes back by itself",
    args: [
      "--hosts",
      "2",
      "--mnfa-threshold",
      "3",
      "--config",
      shortResetDelay,
      "--do",
      "ready+5:kill worker-0",
      "--do",
      "ready+5:kill worker-1",
      "--do",
      "ready+60:revive worker-1",
    ],
    check: (t, r) => {
      const killAt = stepAt(r, "ready+5:kill worker-0");
      // worker-0 stays dead: one BMC reset, no sooner than bmc_reset_delay after its graceful recovery began.
      const lost = r.alarmHistory.find((a) => a.id === "200.004" && a.host === "worker-0" && a.operation === "set" && a.atS >= killAt);
      t.truthy(lost, "worker-0 went into graceful recovery");
      const resets = host(r, "worker-0")?.bmcActions.filter((a) => a.action === "reset") ?? [];
      t.is(resets.length, 1, JSON.stringify(host(r, "worker-0")?.bmcActions));
      t.true(
        (resets[0]?.atS ?? 0) >= (lost?.atS ?? Number.POSITIVE_INFINITY) + BMC_RESET_DELAY_S - 1,
        `reset at ${resets[0]?.atS} s, recovery from ${lost?.atS} s, bmc_reset_delay ${BMC_RESET_DELAY_S} s`,
      );
      t.is(bootsFrom(r, "worker-0", killAt).length, 1, "the reset booted it");
      // worker-1 came back before the delay: its reset was cancelled.
      t.deepEqual(host(r, "worker-1")?.bmcActions, [], "no BMC action for the host that came back");
      t.is(bootsFrom(r, "worker-1", killAt).length, 1, "booted once: its own revival");
      for (const w of ["worker-0", "worker-1"]) t.is(stateOf(r, w), "unlocked-enabled-available");
      t.deepEqual(r.alarms, []);
    },
  },
  {
    name: "power-off is declared only on an Off read-back: a BMC that takes the request while the power stays on is retried",
    args: [
      "--hosts",
      "1",
      "--do",
      "ready+5:lock worker-0",
      "--do",
      "ready+20:power-stuck worker-0",
      "--do",
      "ready+25:power-off worker-0",
      "--do",
      "ready+90:power-unstuck worker-0",
    ],
    check: (t, r) => {
      const unstuckAt = stepAt(r, "ready+90:power-unstuck");
      const offs = host(r, "worker-0")?.bmcActions.filter((a) => a.action === "off") ?? [];
      t.true(
        offs.some((a) => !a.applied && a.atS < unstuckAt),
        `an off request was taken while stuck: ${JSON.stringify(offs)}`,
      );
      const applied = offs.find((a) => a.applied);
      t.true((applied?.atS ?? 0) >= unstuckAt, "the off that worked came after the power was free again");
      t.true(
        firstAt(r, "worker-0", "'locked-disabled-power-off'") >= (applied?.atS ?? Number.POSITIVE_INFINITY),
        `power-off declared only after the off that worked: ${after(r, "worker-0", 0).join(", ")}`,
      );
      t.is(stateOf(r, "worker-0"), "locked-disabled-power-off");
      t.is(host(r, "worker-0")?.machine, "off");
    },
  },
  {
    name: "unlock of a powered-off host powers it on through its BMC at once (no five reboots, no bmc_reset_delay, no reset)",
    args: ["--hosts", "1", "--do", "ready+5:lock worker-0", "--do", "ready+30:power-off worker-0", "--do", "ready+60:unlock worker-0"],
    check: (t, r) => {
      const unlockAt = stepAt(r, "ready+60:unlock");
      t.deepEqual(
        host(r, "worker-0")
          ?.bmcActions.filter((a) => a.atS >= unlockAt)
          .map((a) => a.action),
        ["on"],
        "one power-on, no reset",
      );
      t.is(bootsFrom(r, "worker-0", unlockAt).length, 1);
      const enabledAt = r.history.find((e) => e.host === "worker-0" && e.atS >= unlockAt && e.text.includes("'unlocked-enabled-available'"))?.atS;
      t.true((enabledAt ?? Number.POSITIVE_INFINITY) < unlockAt + 300, `enabled at ${enabledAt} s, unlocked at ${unlockAt} s: not after bmc_reset_delay`);
      t.is(stateOf(r, "worker-0"), "unlocked-enabled-available");
      t.deepEqual(r.alarms, []);
    },
  },
  {
    name: "cluster-host cut: heartbeat loss, graceful recovery without a reboot; pxeboot cut: 200.003 raised and cleared, nothing else",
    args: [
      "--hosts",
      "2",
      "--do",
      "ready+5:cut worker-0 cluster-host",
      "--do",
      "ready+5:cut worker-1 pxeboot",
      "--do",
      "ready+60:heal worker-0 cluster-host",
      "--do",
      "ready+150:heal worker-1 pxeboot",
    ],
    check: (t, r) => {
      const cutAt = stepAt(r, "ready+5:cut worker-0");
      t.true(
        r.alarmHistory.some((a) => a.id === "200.009" && a.host === "worker-0" && a.operation === "set"),
        "cluster-host heartbeat failure alarm",
      );
      t.false(
        r.alarmHistory.some((a) => a.id === "200.005" && a.host === "worker-0"),
        "mgmt kept its heartbeat",
      );
      t.true(
        after(r, "worker-0", cutAt).some((x) => x.includes("heartbeat loss")),
        `worker-0 lost heartbeat: ${after(r, "worker-0", cutAt).join(", ")}`,
      );
      const pxe = r.alarmHistory.filter((a) => a.id === "200.003" && a.host === "worker-1").map((a) => a.operation);
      t.deepEqual(pxe, ["set", "clear"], "pxeboot loss alarm raised and cleared");
      t.deepEqual(after(r, "worker-1", cutAt), [], "a pxeboot cut changes no state");
      for (const w of ["worker-0", "worker-1"]) {
        t.deepEqual(bootsFrom(r, w, cutAt), [], `${w} was not rebooted`);
        t.is(stateOf(r, w), "unlocked-enabled-available");
      }
      t.deepEqual(r.alarms, []);
    },
  },
];

for (const c of CASES) {
  test.serial(c.name, async (t) => {
    const r = await execa(
      process.execPath,
      [METAL, "lab", "--json", "--settle", "--no-pmon", "--speed", "20", "--boot", "20", "--duration", "200", ...c.args],
      {
        reject: false,
        timeout: 260_000,
      },
    );
    let result: LabResult;
    try {
      result = JSON.parse(r.stdout) as LabResult;
    } catch {
      t.fail(`no report (exit ${r.exitCode}): ${r.stderr.slice(-1500)}`);
      return;
    }
    t.is(r.exitCode, 0, r.stderr.slice(-1500));
    t.deepEqual(result.refused, [], "every step was taken");
    c.check(t, result);
  });
}
