/**
 * `metal lab --controllers 2 --store etcd` as a process (issue 12): a real 3-member etcd, two real `metal agent`
 * processes, the --do actions on agents and etcd members, and the report's `active` and `leadership`.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { execa } from "execa";
import type { HaLabResult } from "../src/lab/ha-lab.js";

const main = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");

test.serial(
  "the etcd lab: pause, kill, revive the active agent, lose an etcd member, swact; the report names the active and every leadership change",
  async (t) => {
    t.timeout(300_000);
    const r = await execa(
      process.execPath,
      [
        main,
        "lab",
        "--controllers",
        "2",
        "--store",
        "etcd",
        "--hosts",
        "3",
        "--json",
        "--settle",
        "--duration",
        "240",
        "--do",
        "ready+1:pause-agent active",
        // The paused agent lost its lease meanwhile: the other one leads, so the paused one is the standby now.
        "--do",
        "ready+12:resume-agent standby",
        "--do",
        "ready+20:kill-agent active",
        "--do",
        "ready+28:revive-agent standby",
        "--do",
        "ready+30:kill-etcd 0",
        "--do",
        "ready+40:swact active",
        "--do",
        "ready+44:revive-etcd 0",
        "--do",
        "ready+44:!resume-agent controller-0",
      ],
      { reject: false, timeout: 280_000 },
    );
    let result: HaLabResult;
    try {
      result = JSON.parse(r.stdout) as HaLabResult;
    } catch {
      t.fail(`lab printed no JSON (exit ${r.exitCode}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
      return;
    }
    t.is(r.exitCode, 0, r.stderr);
    t.true(result.ok);
    t.deepEqual(
      result.steps.map((s) => [s.step, s.outcome]),
      [
        ["ready+1:pause-agent active", "done"],
        ["ready+12:resume-agent standby", "done"],
        ["ready+20:kill-agent active", "done"],
        ["ready+28:revive-agent standby", "done"],
        ["ready+30:kill-etcd 0", "done"],
        ["ready+40:swact active", "done"],
        ["ready+44:revive-etcd 0", "done"],
        ["ready+44:!resume-agent controller-0", "refused"],
      ],
      JSON.stringify(result.steps),
    );
    const [paused, resumed, killed, revived, , swacted] = result.steps.map((s) => s.controller);
    t.is(resumed, paused, "the paused agent was the standby when it woke");
    t.is(revived, killed, "the killed agent was the standby when it was revived");
    t.not(killed, paused, "the kill hit the agent that took over from the paused one");
    t.truthy(swacted);

    const L = result.leadership;
    const when = (controller: string | undefined, kind: string, fromS: number) =>
      L.find((e) => e.controller === controller && e.kind === kind && e.atS >= fromS);
    // The paused agent's own record: it lost its lease (it says so when it wakes), and the other one was elected.
    const pauseAt = result.steps[0]?.atS ?? 0;
    t.truthy(when(paused, "lost", pauseAt), JSON.stringify(L));
    t.truthy(when(killed, "elected", pauseAt), JSON.stringify(L));
    // The lab records the kill of the active; the other agent takes over.
    const killAt = result.steps[2]?.atS ?? 0;
    t.regex(when(killed, "lost", killAt)?.reason ?? "", /killed/);
    t.truthy(when(paused, "elected", killAt), JSON.stringify(L));
    // The swact: the active resigns, the standby is elected.
    const swactAt = result.steps[5]?.atS ?? 0;
    t.truthy(when(swacted, "resigned", swactAt), JSON.stringify(L));
    const after = when(swacted === "controller-0" ? "controller-1" : "controller-0", "elected", swactAt);
    t.truthy(after, JSON.stringify(L));
    t.is(result.active, after?.controller ?? "?");
    // Every election carries a higher epoch than the one before.
    const epochs = L.filter((e) => e.kind === "elected").map((e) => e.epoch ?? 0);
    t.true(epochs.length >= 4, JSON.stringify(L));
    t.deepEqual(
      epochs,
      [...epochs].sort((a, b) => a - b),
    );
    t.is(new Set(epochs).size, epochs.length);
    // No host left service through any of it.
    for (const h of result.hosts) t.is(`${h.administrative}-${h.operational}-${h.availability}`, "unlocked-enabled-available", h.hostname);
    t.true(result.etcd.every((m) => m.running));
  },
);

test("the default lab refuses the pair's actions, and the etcd lab the machine actions, before starting anything", async (t) => {
  const a = await execa(process.execPath, [main, "lab", "--json", "--do", "5:kill-agent controller-0"], { reject: false, timeout: 60_000 });
  t.not(a.exitCode, 0);
  t.regex(a.stderr, /kill-agent needs --controllers 2 --store etcd/);
  const b = await execa(process.execPath, [main, "lab", "--controllers", "2", "--store", "etcd", "--do", "5:cut worker-0 mgmt"], {
    reject: false,
    timeout: 60_000,
  });
  t.not(b.exitCode, 0);
  t.regex(b.stderr, /does not run/);
  const c = await execa(process.execPath, [main, "lab", "--store", "etcd"], { reject: false, timeout: 60_000 });
  t.not(c.exitCode, 0);
  t.regex(c.stderr, /--controllers 2/);
});
