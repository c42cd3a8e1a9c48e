/**
 * pmond against real processes (issue 13; reference mtce-core.md §9): passive restart and the
 * restart/debounce/severity policy, active-mode ping-pong with a stopped process, status-mode scripts with their
 * failure text, confs added and removed at run time, no events while /var/run/.node_reset exists.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import type { PmonProcessStatus } from "../src/pmon/process.js";
import { eventually } from "./helpers/client-process.js";
import { type PmonRig, pmonRig, sleeperScript } from "./helpers/pmon-rig.js";
import { freeUdpPorts } from "./helpers/udp.js";

const AMON_JS = fileURLToPath(new URL("../src/pmon/amon.js", import.meta.url));

function st(r: PmonRig, name: string): PmonProcessStatus {
  const s = r.pmond.status().processes.find((p) => p.process === name);
  if (!s) throw new Error(`${name} is not monitored`);
  return s;
}

function alive(pid: number | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function monitored(r: PmonRig, name: string, notPid?: number | null): Promise<number> {
  const ok = await eventually(() => {
    const s = r.pmond.status().processes.find((p) => p.process === name);
    return !!s && (s.stage === "MONITOR" || s.stage === "MONITOR_WAIT") && alive(s.pid) && s.pid !== notPid;
  }, 15_000);
  if (!ok) throw new Error(`${name} not monitored with a live pid: ${JSON.stringify(r.pmond.status().processes)}`);
  const pid = st(r, name).pid as number;
  r.pids.add(pid);
  return pid;
}

test("passive: a killed process is restarted; more than `restarts` failures raise the alarm at its severity; debounce clears it", async (t) => {
  const r = await pmonRig(t);
  const s = sleeperScript(r.root, "sleeper");
  execFileSync(join(r.root, s.script), ["start"]);
  const fields = {
    script: s.script,
    pidfile: s.pidfile,
    style: "lsb",
    severity: "major",
    restarts: 2,
    interval: 1,
    debounce: 60,
    startuptime: 0,
    mode: "passive",
  };
  r.writeConf("sleeper", fields);
  await r.pmond.start();
  let pid = await monitored(r, "sleeper");

  process.kill(pid, "SIGKILL");
  pid = await monitored(r, "sleeper", pid);
  t.truthy(await r.waitEvent((e) => e.kind === "log" && e.process === "sleeper"), "MTC_EVENT_PMON_LOG on the first failure");
  t.is(st(r, "sleeper").alarm, null, "no alarm while within `restarts`");

  // Two more failures inside the debounce window: the third exceeds restarts=2.
  process.kill(pid, "SIGKILL");
  pid = await monitored(r, "sleeper", pid);
  t.is(st(r, "sleeper").alarm, null);
  process.kill(pid, "SIGKILL");
  const major = await r.waitEvent((e) => e.kind === "major" && e.process === "sleeper");
  t.is(major.hostname, "worker-3");
  t.is(major.functionMask, 0x2, "worker function mask in parm[0]");
  t.is(st(r, "sleeper").alarm, "major");
  // It keeps being restarted after the alarm.
  pid = await monitored(r, "sleeper", pid);
  t.true(st(r, "sleeper").restarts >= 3);

  // Staying up for `debounce` clears the alarm (shorten it now so the test does not wait a minute).
  r.writeConf("sleeper", { ...fields, debounce: 1 });
  await r.waitEvent((e) => e.kind === "clear" && e.process === "sleeper");
  t.is(st(r, "sleeper").alarm, null);
  t.is(st(r, "sleeper").failures, 0);
});

test("passive with restarts=0: the first failure asserts the alarm (critical event) and pmond stops restarting it", async (t) => {
  const r = await pmonRig(t);
  const s = sleeperScript(r.root, "crit");
  execFileSync(join(r.root, s.script), ["start"]);
  r.writeConf("crit", { script: s.script, pidfile: s.pidfile, severity: "critical", restarts: 0, interval: 1, debounce: 1, startuptime: 0, quorum: 1 });
  await r.pmond.start();
  const pid = await monitored(r, "crit");
  t.is(r.pmond.status().quorum, "ok");
  process.kill(pid, "SIGKILL");
  const e = await r.waitEvent((x) => x.kind === "critical" && x.process === "crit");
  t.regex(e.reason ?? "", /exited/);
  t.true(await eventually(() => st(r, "crit").state === "failed", 5000));
  t.is(st(r, "crit").restarts, 0, "not restarted");
  t.is(r.pmond.status().quorum, "failed", "a quorum process that cannot be recovered fails the quorum");
  t.false(
    r.events.some((x) => x.kind === "log"),
    "no restart log with restarts=0",
  );
});

test("active: a process that stops answering (SIGSTOP) is killed and restarted after `threshold` misses", async (t) => {
  const r = await pmonRig(t);
  const [port] = await freeUdpPorts(1);
  const responder = join(r.root, "responder.mjs");
  writeFileSync(
    responder,
    `import { createSocket } from "node:dgram";
import { decodeAmonRequest, encodeAmonResponse } from ${JSON.stringify(AMON_JS)};
const s = createSocket("udp4");
s.on("message", (d, from) => { const q = decodeAmonRequest(d); if (q.ok) s.send(encodeAmonResponse(q.process, q.seq), from.port, from.address); });
s.bind(Number(process.argv[2]), "127.0.0.1");
setInterval(() => {}, 60000);
`,
  );
  // A node process may take seconds to start on a loaded machine: a generous threshold until it answers.
  const fields = {
    command: `${process.execPath} ${responder} ${port}`,
    pidfile: "/var/run/answerer.pid",
    mode: "active",
    port: port as number,
    period: 1,
    timeout: 1,
    threshold: 60,
    restarts: 3,
    interval: 1,
    debounce: 60,
    startuptime: 0,
    severity: "major",
  };
  r.writeConf("answerer", fields);
  await r.pmond.start();
  const pid = await monitored(r, "answerer");
  const proc = () => r.pmond.process("answerer");
  t.true(await eventually(() => (proc()?.amonAnswered ?? -1) >= 1 && proc()?.amonMisses === 0, 30_000), "answers the pings");
  r.writeConf("answerer", { ...fields, threshold: 2 });
  t.true(await eventually(() => proc()?.conf.threshold === 2, 10_000));

  process.kill(pid, "SIGSTOP");
  const next = await monitored(r, "answerer", pid);
  r.writeConf("answerer", fields);
  t.not(next, pid);
  t.false(alive(pid), "the stopped process was killed");
  t.regex(String(st(r, "answerer").reason ?? r.events.find((e) => e.kind === "log")?.reason), /active-monitor/);
  const sent = proc()?.amonSeq ?? 0;
  t.true(await eventually(() => (proc()?.amonAnswered ?? -1) > sent && proc()?.amonMisses === 0, 30_000), "the new process answers");
});

test("status: a failing check script raises the alarm with its failure text; a passing one clears it", async (t) => {
  const r = await pmonRig(t);
  const script = join(r.root, "etc/init.d/checker");
  mkdirSync(join(r.root, "etc/init.d"), { recursive: true });
  const failText = join(r.root, "var/run/checker.failure");
  const gate = join(r.root, "var/run/checker.broken");
  writeFileSync(
    script,
    `#!/bin/sh\ncase "$1" in\n  start) exit 0 ;;\n  status) if [ -e "${gate}" ]; then echo "ntp server unreachable" > "${failText}"; exit 3; fi; exit 0 ;;\nesac\n`,
    { mode: 0o755 },
  );
  r.writeConf("checker", {
    mode: "status",
    script: "/etc/init.d/checker",
    status_failure_text: "/var/run/checker.failure",
    severity: "minor",
    restarts: 0,
    period: 1,
    timeout: 1,
    debounce: 1,
    startuptime: 0,
  });
  await r.pmond.start();
  t.true(await eventually(() => st(r, "checker").stage === "MONITOR", 10_000));
  writeFileSync(gate, "");
  const e = await r.waitEvent((x) => x.kind === "minor" && x.process === "checker");
  t.regex(e.reason ?? "", /checker status failed \(rc 3\): ntp server unreachable/);
  t.is(st(r, "checker").alarm, "minor");
  unlinkSync(gate);
  await r.waitEvent((x) => x.kind === "clear" && x.process === "checker");
  t.is(st(r, "checker").alarm, null);
});

test("confs added and removed at run time start and stop monitoring; a bad conf is skipped", async (t) => {
  const r = await pmonRig(t);
  await r.pmond.start();
  t.deepEqual(r.pmond.status().processes, []);
  const s = sleeperScript(r.root, "late");
  execFileSync(join(r.root, s.script), ["start"]);
  r.writeConf("late", { script: s.script, pidfile: s.pidfile, restarts: 3, interval: 1, startuptime: 0 });
  writeFileSync(join(r.confDir, "broken.conf"), "[process]\nprocess = broken\nrestarts = lots\n");
  const pid = await monitored(r, "late");
  t.true(alive(pid));
  t.deepEqual(
    r.pmond.status().processes.map((p) => p.process),
    ["late"],
    "the bad conf is not monitored",
  );
  rmSync(join(r.confDir, "late.conf"));
  t.true(await eventually(() => r.pmond.status().processes.length === 0, 10_000), "removed conf: no longer monitored");
  process.kill(pid, "SIGKILL");
  await new Promise((res) => setTimeout(res, 500));
  t.false(
    r.events.some((e) => e.process === "late" && e.kind !== "clear"),
    "no events for a process no longer monitored",
  );
});

test("no events while /var/run/.node_reset exists; monitoring waits for goenabled", async (t) => {
  const r = await pmonRig(t, { goenabled: false });
  const s = sleeperScript(r.root, "quiet");
  execFileSync(join(r.root, s.script), ["start"]);
  r.writeConf("quiet", { script: s.script, pidfile: s.pidfile, severity: "major", restarts: 0, startuptime: 0 });
  await r.pmond.start();
  await new Promise((res) => setTimeout(res, 300));
  t.is(st(r, "quiet").state, "waiting", "no monitoring before goenabled");
  t.false(r.pmond.status().monitoring);
  writeFileSync(join(r.root, "var/run/goenabled"), "");
  const pid = await monitored(r, "quiet");
  writeFileSync(join(r.root, "var/run/.node_reset"), "");
  process.kill(pid, "SIGKILL");
  t.true(await eventually(() => st(r, "quiet").alarm === "major", 10_000));
  await new Promise((res) => setTimeout(res, 300));
  t.false(
    r.events.some((e) => e.process === "quiet"),
    "nothing sent",
  );
  t.true(r.pmond.stats.suppressed >= 1);
});
