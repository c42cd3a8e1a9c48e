import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import type { HostMessage } from "../src/agent/ports.js";
import { MtcFlag } from "../src/wire/mtc-flags.js";
import { eventually, startPair, writeScript } from "./helpers/client-process.js";

type Alive = Extract<HostMessage, { kind: "mtcAlive" }>;
const isAlive =
  (network?: string) =>
  (m: HostMessage): m is Alive =>
    m.kind === "mtcAlive" && (network === undefined || m.network === network);

test("a real client's mtcAlive flows on mgmt, cluster-host and pxeboot, with flags and per-interface sequences", async (t) => {
  const p = await startPair(t, {
    hostIp: "127.0.1.61",
    prepare: (paths) => {
      mkdirSync(join(paths.root, "etc/platform"), { recursive: true });
      writeFileSync(paths.initialConfigComplete, "");
      writeFileSync(paths.configPass, "");
      mkdirSync(join(paths.root, "lab"), { recursive: true });
      writeFileSync(join(paths.root, "lab", "luks-failed"), ""); // the lab machine's vault check fails
    },
  });
  const [m, c, x] = await Promise.all([p.waitFor(isAlive("mgmt")), p.waitFor(isAlive("clusterHost")), p.waitFor(isAlive("pxeboot"))]);
  for (const a of [m, c, x]) {
    t.is(a.hostname, "worker-1");
    t.is(a.address, p.hostIp);
    t.is(a.health, 1);
    t.truthy(a.flags & MtcFlag.I_AM_CONFIGURED);
    t.truthy(a.flags & MtcFlag.I_AM_HEALTHY);
    t.truthy(a.flags & MtcFlag.LUKS_VOL_FAILED);
    t.is(a.sequence, 1);
    t.is(a.personality, "worker");
  }
  await p.waitFor((msg) => msg.kind === "mtcAlive" && msg.network === "pxeboot" && msg.sequence === 2);
  await p.waitFor((msg) => msg.kind === "monitorReady" && msg.service === "mtcClient");
  t.is(p.agent.host("worker-1")?.pxebootIp, p.hostIp);
  t.is(p.agent.host("worker-1")?.clusterHostIp, p.hostIp);
  t.true(p.agent.host("worker-1")?.pxebootFeature);
  t.is(await p.agent.command("worker-1", "loopback"), 0, "loopback ACKed");
  t.is(await p.agent.command("worker-1", "loopback", { network: "pxeboot" }), 0, "ACK over pxeboot");
  t.is(await p.agent.command("worker-1", "loopback", { network: "clusterHost" }), 0, "ACK over cluster-host");
});

test("lock creates both node-locked files, unlock removes both; a removed file comes back within 5 s", async (t) => {
  const p = await startPair(t, { hostIp: "127.0.1.62", client: (c) => ({ ...c, messaging: { ...c.messaging, mtcAlivePeriodMs: 1000 } }) });
  await p.waitFor(isAlive("mgmt"));
  t.is(await p.agent.command("worker-1", "locked", { parms: [1] }), 1, "the LOCKED ACK echoes LOCK_PERSIST");
  t.true(existsSync(p.paths.nodeLocked));
  t.true(existsSync(p.paths.nodeLockedPersist));
  await p.waitFor((m) => m.kind === "mtcAlive" && (m.flags & MtcFlag.I_AM_LOCKED) !== 0);
  t.is(await p.agent.command("worker-1", "unlocked"), 0);
  t.false(existsSync(p.paths.nodeLocked));
  t.false(existsSync(p.paths.nodeLockedPersist));

  // Maintenance holds the host locked; the files are re-asserted from the mtcAlive flag audit.
  p.agent.setHost({ hostname: "worker-1", mgmtIp: p.hostIp, administrative: "locked" });
  t.true(await eventually(() => existsSync(p.paths.nodeLocked) && existsSync(p.paths.nodeLockedPersist), 5000), "locked state asserted");
  rmSync(p.paths.nodeLocked);
  const removedAt = Date.now();
  t.true(await eventually(() => existsSync(p.paths.nodeLocked), 5000), "the removed file is back within 5 s");
  t.log(`node-locked file restored after ${Date.now() - removedAt} ms`);
  // A stray file on an unlocked host goes away the same way.
  p.agent.setHost({ hostname: "worker-1", mgmtIp: p.hostIp, administrative: "unlocked" });
  t.true(await eventually(() => !existsSync(p.paths.nodeLocked) && !existsSync(p.paths.nodeLockedPersist), 5000), "unlocked state asserted");
});

test("goenabled failure reaches the agent with its script name; a pass request after fixing it passes", async (t) => {
  const p = await startPair(t, {
    hostIp: "127.0.1.63",
    prepare: (paths) => {
      mkdirSync(join(paths.root, "etc/platform"), { recursive: true });
      writeFileSync(paths.initialConfigComplete, "");
      writeFileSync(paths.goenabledMainReady, "");
      writeScript(join(paths.goenabledDir, "10-ok.sh"), "exit 0");
      writeScript(join(paths.goenabledDir, "20-check-disk.sh"), 'test "$1" = start && test "$2" = self-test && exit 3');
    },
  });
  const failed = await p.waitFor((m) => m.kind === "goenabled" && !m.passed);
  t.deepEqual(failed, { kind: "goenabled", hostname: "worker-1", subfunction: false, passed: false, text: "20-check-disk.sh (rc:3)" });
  t.true(existsSync(p.paths.goenabledFailed));
  t.false(existsSync(p.paths.goenabledPass));
  await p.waitFor((m) => m.kind === "mtcAlive" && (m.flags & MtcFlag.MAIN_GOENABLE_FAIL) !== 0);

  writeScript(join(p.paths.goenabledDir, "20-check-disk.sh"), "exit 0");
  const before = p.messages.length;
  t.is(await p.agent.command("worker-1", "reqMainGoenabled"), 0);
  const passed = await p.waitFor((m) => m.kind === "goenabled" && m.passed && p.messages.indexOf(m) >= before);
  t.like(passed, { kind: "goenabled", passed: true, subfunction: false });
  t.true(existsSync(p.paths.goenabledPass));
  await p.waitFor((m) => m.kind === "mtcAlive" && (m.flags & MtcFlag.MAIN_GOENABLED) !== 0 && (m.flags & MtcFlag.MAIN_GOENABLE_FAIL) === 0);
});

test("host services: start ACKs 'host service launched' and the result carries the failing script", async (t) => {
  const p = await startPair(t, {
    hostIp: "127.0.1.64",
    prepare: (paths) => {
      writeScript(join(paths.servicesDir("worker"), "mtcTest"), "exit 0");
      writeScript(join(paths.servicesDir("worker"), "vswitch"), 'test "$1" = start && test "$2" = both && exit 4; exit 0');
    },
  });
  await p.waitFor(isAlive("mgmt"));
  t.is(await p.agent.command("worker-1", "startWorkerServices"), 0);
  const r = await p.waitFor((m) => m.kind === "hostServicesResult");
  t.like(r, { kind: "hostServicesResult", rc: 1 });
  t.regex(r.kind === "hostServicesResult" ? r.text : "", /worker start failed: vswitch \(rc:4\)/);
  t.is(await p.agent.command("worker-1", "stopWorkerServices"), 0);
  const r2 = await p.waitFor((m) => m.kind === "hostServicesResult" && m.rc === 0);
  t.like(r2, { text: "pass" });
});

test("a command with another host's MAC is dropped by the client (one log line), the right MAC is obeyed", async (t) => {
  const p = await startPair(t, { hostIp: "127.0.1.65" });
  await p.waitFor(isAlive("mgmt"));
  p.agent.setHost({ hostname: "worker-1", mgmtIp: p.hostIp, mgmtMac: "52:54:00:ff:ff:ff" });
  await t.throwsAsync(p.agent.command("worker-1", "locked", { timeoutMs: 1500 }), { message: /no ACK to locked/ });
  t.false(existsSync(p.paths.nodeLocked));
  t.regex(p.clientLog(), /mac mismatch/);
  p.agent.setHost({ hostname: "worker-1", mgmtIp: p.hostIp, mgmtMac: p.mac });
  t.is(await p.agent.command("worker-1", "locked", { parms: [1] }), 1, "the LOCKED ACK echoes LOCK_PERSIST");
  t.true(existsSync(p.paths.nodeLocked));
});
