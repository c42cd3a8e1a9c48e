/**
 * The pmon.d set a lab machine writes (lab/pmon-host.ts labPmonConfs): mtcClient and hbsClient launched by pmond
 * through the light role entry, on the lab's own active-monitor ports (two labs on one machine share host addresses,
 * so the reference's fixed 2201/2202 collided), at the reference's real-time pace whatever the lab speed.
 */
import test from "ava";
import { defaultConfig } from "../src/config/index.js";
import { labPmonConfs } from "../src/lab/pmon-host.js";
import { PMON_ROLE_ENTRY } from "../src/lab/pmon-role.js";
import { parseProcessConf } from "../src/pmon/conf.js";

const config = defaultConfig({ root: "/lab/worker-0", node: { hostname: "worker-0", subfunctions: ["worker"] } });

test("the lab's amon ports, real-time active monitoring, the role entry as the command", (t) => {
  for (const speed of [1, 10, 50]) {
    const confs = new Map(
      labPmonConfs(config, "worker", speed, {}, { mtcClient: 40101, hbsClient: 40102 }).map(([file, text]) => [file, parseProcessConf(text, file, "/")]),
    );
    t.deepEqual([...confs.keys()].sort(), ["hbsClient.conf", "mtcClient.conf"]);
    t.like(confs.get("mtcClient.conf"), { mode: "active", port: 40101, period: 5 * speed, timeout: 4 * speed, threshold: 5 });
    t.like(confs.get("hbsClient.conf"), { mode: "active", port: 40102, period: 5 * speed, timeout: 4 * speed, threshold: 5, quorum: true });
    for (const c of confs.values()) {
      t.is(c.command?.[1], PMON_ROLE_ENTRY);
      t.deepEqual(c.command?.slice(2, 4), ["--lab-role", c.process]);
      t.is(c.service, undefined, "pmond launches it itself: no systemd unit");
    }
  }
  // Without lab ports: the reference's.
  const plain = labPmonConfs(config, "worker", 10).map(([file, text]) => parseProcessConf(text, file, "/"));
  t.deepEqual(plain.map((c) => [c.process, c.port]).sort(), [
    ["hbsClient", 2202],
    ["mtcClient", 2201],
  ]);
});

test("--pmon-conf extras: a new process runs sleep under pmond; a field of mtcClient can be changed", (t) => {
  const confs = labPmonConfs(config, "worker", 10, { labsvc: { severity: "critical", restarts: 0 }, mtcClient: { severity: "critical" } }).map(([file, text]) =>
    parseProcessConf(text, file, "/"),
  );
  const byName = new Map(confs.map((c) => [c.process, c]));
  t.like(byName.get("labsvc"), { severity: "critical", restarts: 0, mode: "passive", pidfile: "/var/run/labsvc.pid" });
  t.is(byName.get("labsvc")?.command?.[0], "sleep");
  t.is(byName.get("mtcClient")?.severity, "critical");
});
