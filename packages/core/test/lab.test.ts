import { Writable } from "node:stream";
import test from "ava";
import { SystemClock } from "../src/clock/system-clock.js";
import { type LabControl, runLab } from "../src/lab/lab.js";

async function until(pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("lab condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("metal lab stage two: every simulated host runs a real mtcClient; lock and reboot go through the real agent messaging", async (t) => {
  t.timeout(120_000);
  let out = "";
  const sink = new Writable({
    write(c, _e, cb) {
      out += String(c);
      cb();
    },
  });
  const seen: Record<string, unknown> = {};
  const result = await runLab({
    hosts: 3,
    durationS: 0,
    speed: 5,
    json: true,
    clock: new SystemClock(),
    out: sink,
    script: async (lab: LabControl) => {
      await until(() => lab.rows().every((r) => r.state === "registered" && r.networks === "MCP" && r.goenabled === "pass"), 40_000);
      // Each host is its own client process.
      seen.pids = new Set(lab.hosts.map((h) => h.host.proc?.pid)).size;
      // Lock worker-1 the way maintenance does: the admin state, re-asserted from the mtcAlive flag audit.
      lab.messaging.setHost({ hostname: "worker-1", mgmtIp: "127.0.1.2", administrative: "locked" });
      await until(() => lab.rows()[1]?.locked === true, 15_000);
      // Reboot worker-0: ACK, the lab host goes down and boots again with a fresh uptime.
      seen.rebootRc = await lab.messaging.command("worker-0", "reboot");
      await until(() => (lab.rows()[0]?.boots ?? 0) === 2 && lab.rows()[0]?.state === "registered", 40_000);
      seen.uptimeAfterReboot = lab.rows()[0]?.uptimeS;
    },
  });
  t.is(seen.pids, 3);
  t.is(seen.rebootRc, 0);
  t.true((seen.uptimeAfterReboot as number) < 30);
  t.true(result.ok, out);
  t.deepEqual(
    result.rows.map((r) => [r.hostname, r.address, r.state, r.locked]),
    [
      ["worker-0", "127.0.1.1", "registered", false],
      ["worker-1", "127.0.1.2", "registered", true],
      ["worker-2", "127.0.1.3", "registered", false],
    ],
  );
  t.false(
    result.rows.some((r) => r.pxebootAlarm),
    "pxeboot mtcAlive flowed for every host",
  );
});
