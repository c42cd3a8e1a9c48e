import { DefaultAlarmManager } from "@metal/core/alarms/manager";
import { EventFeed } from "@metal/core/bmc/event-feed";
import { SystemClock } from "@metal/core/clock/index";
import { secretFromString } from "@metal/core/di/secret";
import { HwmonMonitor, SENSOR_ALARM } from "@metal/core/hwmon/monitor";
import { silentLogger } from "@metal/core/logging/logger";
import { RedfishDriver, RedfishEmulator } from "@metal/plugin-redfish";
import type { Benchmark, BenchResult } from "./harness.js";

/** hwmon's poll interval in this run (a stand-in for the reference's 120 s, scaled so the run stays short). */
const POLL_MS = 2_000;
const CROSSINGS = 4;
const GAP_MS = 3_000;
const QUIET_MS = 40_000;

/**
 * hwmon on one emulated Redfish BMC for CROSSINGS sensor crossings (Critical, then back to OK), with events
 * (SSE, reconciling poll at 10 × POLL_MS) or with polling only: mean change → 200.007 latency, and the BMC
 * requests the monitor made, per hour.
 */
async function run(withEvents: boolean): Promise<{ latencyMs: number; requestsPerHour: number; quietPerHour: number }> {
  const emulator = new RedfishEmulator();
  const { port } = await emulator.listen({ port: 0 });
  const clock = new SystemClock();
  const driver = new RedfishDriver(
    { host: "bench", address: "127.0.0.1", port, username: "root", password: secretFromString("calvin"), options: { scheme: "http" } },
    clock,
  );
  const alarms = new DefaultAlarmManager({ clock, log: silentLogger(), sinks: [] });
  const feed = withEvents ? new EventFeed({ hostname: "bench", source: driver.events, clock }) : undefined;
  const monitor = new HwmonMonitor({
    hostname: "bench",
    read: () => driver.sensors.read(),
    clock,
    alarms,
    agent: { degrade: () => {}, reset: () => {}, powerCycle: () => {} },
    auditIntervalMs: POLL_MS,
    degradeAuditMs: 3_600_000,
    ...(feed ? { events: feed } : {}),
  });
  const raised = () => alarms.active().some((a) => a.id === SENSOR_ALARM && a.entity === "sensor=CPU1 Temp");
  const latencies: number[] = [];
  try {
    monitor.start();
    feed?.start();
    for (let i = 0; i < 200 && feed && !feed.subscribed; i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 500));
    const before = emulator.requestLog.length;
    const start = Date.now();
    for (let i = 0; i < CROSSINGS; i++) {
      const bad = i % 2 === 0;
      const at = Date.now();
      await fetch(`http://127.0.0.1:${port}/emulator/sensors/CPU1%20Temp`, {
        method: "PATCH",
        body: JSON.stringify({ reading: bad ? 99 : 41, health: bad ? "Critical" : "OK" }),
      });
      for (let k = 0; k < 1_000 && raised() !== bad && Date.now() - at < 4 * POLL_MS; k++) await new Promise((r) => setTimeout(r, 10));
      latencies.push(Date.now() - at);
      const rest = GAP_MS - (Date.now() - at);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    }
    const requests = emulator.requestLog.length - before;
    const hours = (Date.now() - start) / 3_600_000;
    // A quiet BMC (no change at all) for QUIET_MS: what each way costs when nothing happens.
    const quietFrom = emulator.requestLog.length;
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const quietPerHour = (emulator.requestLog.length - quietFrom) / (QUIET_MS / 3_600_000);
    return { latencyMs: latencies.reduce((a, b) => a + b, 0) / latencies.length, requestsPerHour: requests / hours, quietPerHour };
  } finally {
    monitor.stop();
    await feed?.stop();
    await driver.close();
    await emulator.close();
  }
}

const bench: Benchmark = {
  name: "events",
  async run(): Promise<BenchResult[]> {
    const polling = await run(false);
    const events = await run(true);
    return [
      {
        name: `hwmon change -> 200.007 latency with Redfish events (SSE), ${CROSSINGS} crossings`,
        figure: events.latencyMs,
        unit: "ms",
        baselineName: `polling every ${POLL_MS} ms`,
        baseline: polling.latencyMs,
        ratio: polling.latencyMs / events.latencyMs,
        target: "within 1 s with events",
        met: events.latencyMs < 1_000,
      },
      {
        name: "BMC requests per hour by hwmon with events (reconciling poll 10x slower)",
        figure: events.requestsPerHour,
        unit: "req/h",
        baselineName: "polling",
        baseline: polling.requestsPerHour,
        ratio: polling.requestsPerHour / events.requestsPerHour,
        notes: `poll interval ${POLL_MS} ms stands in for the reference's 120 s; a crossing every ${GAP_MS} ms is a busy BMC`,
      },
      {
        name: `BMC requests per hour by hwmon with events, quiet BMC (${QUIET_MS} ms without a change)`,
        figure: events.quietPerHour,
        unit: "req/h",
        baselineName: "polling",
        baseline: polling.quietPerHour,
        ratio: polling.quietPerHour / Math.max(1, events.quietPerHour),
      },
    ];
  },
};
export default bench;
