import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { ConfigError, defaultConfig, loadConfigFile, parseConfig } from "../src/config/load.js";
import { nodePaths } from "../src/config/paths.js";

test("defaults are the reference's shipped values", (t) => {
  const c = defaultConfig();
  t.is(c.heartbeat.periodMs, 100);
  t.deepEqual([c.heartbeat.minorThreshold, c.heartbeat.degradeThreshold, c.heartbeat.failureThreshold], [4, 6, 10]);
  t.is(c.heartbeat.failureAction, "fail");
  t.is(c.heartbeat.multicastGroup, "239.1.1.2");
  t.deepEqual([c.ports.agentMgmt, c.ports.agentPxeboot, c.ports.clientMgmt, c.ports.clientClstr, c.ports.clientPxeboot], [2101, 2102, 2118, 2115, 2119]);
  t.deepEqual(
    [c.ports.hbsCmd, c.ports.hbsEvent, c.ports.hbsClientMgmt, c.ports.hbsClientClstr, c.ports.hbsAgentMgmt, c.ports.hbsAgentClstr],
    [2104, 2107, 2106, 2116, 2103, 2113],
  );
  t.is(c.timeouts.controllerBoot, 1200);
  t.is(c.timeouts.workerBoot, 720);
  t.is(c.timeouts.goenabled, 600);
  t.is(c.timeouts.dorModeDetect, 1200);
  t.is(c.timeouts.bmcResetDelay, 300);
  t.is(c.mnfa.threshold, 2);
  t.deepEqual(c.autoRecovery.heartbeat, { threshold: 2, interval: 600 });
  t.is(c.api.address, "127.0.0.1");
});

test("bad values get one clear message per problem, naming the key and the value", (t) => {
  const err = t.throws(() => parseConfig({ heartbeat: { periodMs: 50, failureAction: "explode" }, ports: { agentMgmt: 70000 }, bogus: 1 }), {
    instanceOf: ConfigError,
  }) as ConfigError;
  t.true(
    err.problems.some((p) => p === "heartbeat.periodMs: heartbeat period must be 100..1000 ms (got 50)"),
    err.problems.join("\n"),
  );
  t.true(err.problems.some((p) => p.startsWith("heartbeat.failureAction:") && p.includes('"explode"')));
  t.true(err.problems.some((p) => p.startsWith("ports.agentMgmt:") && p.includes("70000")));
  t.true(err.problems.some((p) => p === "(top level): unknown key(s) bogus"));
});

test("degrade threshold must stay below the failure threshold", (t) => {
  const err = t.throws(() => parseConfig({ heartbeat: { degradeThreshold: 10, failureThreshold: 10 } })) as ConfigError;
  t.deepEqual(err.problems, ["heartbeat.degradeThreshold: degradeThreshold must be less than failureThreshold"]);
});

test("YAML and JSON files load; broken files say why", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-cfg-"));
  writeFileSync(join(dir, "a.yaml"), "root: /tmp/x\nheartbeat:\n  periodMs: 200\n");
  writeFileSync(join(dir, "b.json"), JSON.stringify({ heartbeat: { periodMs: 300 } }));
  writeFileSync(join(dir, "c.yaml"), "heartbeat: [\n");
  writeFileSync(join(dir, "d.yaml"), "- 1\n- 2\n");
  t.is((await loadConfigFile(join(dir, "a.yaml"))).heartbeat.periodMs, 200);
  t.is((await loadConfigFile(join(dir, "b.json"))).heartbeat.periodMs, 300);
  await t.throwsAsync(loadConfigFile(join(dir, "c.yaml")), { message: /not valid YAML\/JSON/ });
  await t.throwsAsync(loadConfigFile(join(dir, "d.yaml")), { message: /top level must be a mapping/ });
  await t.throwsAsync(loadConfigFile(join(dir, "missing.yaml")), { message: /cannot read: ENOENT/ });
});

test("every daemon path sits under the configured root", (t) => {
  const p = nodePaths("/tmp/lab/worker-0");
  t.is(p.nodeLocked, "/tmp/lab/worker-0/var/run/.node_locked");
  t.is(p.nodeLockedPersist, "/tmp/lab/worker-0/var/persist/mtc/.node_locked");
  t.is(p.goenabledDir, "/tmp/lab/worker-0/etc/goenabled.d");
  t.is(p.servicesDir("worker"), "/tmp/lab/worker-0/etc/services.d/worker");
  for (const v of Object.values(p)) if (typeof v === "string") t.true(v.startsWith("/tmp/lab/worker-0"), v);
});
