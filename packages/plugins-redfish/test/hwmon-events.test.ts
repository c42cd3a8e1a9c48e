import { DefaultAlarmManager } from "@metal/core/alarms/manager";
import { EventFeed } from "@metal/core/bmc/event-feed";
import { SystemClock } from "@metal/core/clock/index";
import { HwmonMonitor, SENSOR_ALARM } from "@metal/core/hwmon/monitor";
import { silentLogger } from "@metal/core/logging/logger";
import type { ExecutionContext } from "ava";
import test from "ava";
import { startEmulator } from "./helpers.js";

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return pred();
}

async function rig(t: ExecutionContext, withEvents: boolean, auditIntervalMs: number) {
  const r = await startEmulator();
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  const clock = new SystemClock();
  const alarms = new DefaultAlarmManager({ clock, log: silentLogger(), sinks: [] });
  const feed = withEvents ? new EventFeed({ hostname: "worker-0", source: d.events, clock, resubscribeMs: 400 }) : undefined;
  const monitor = new HwmonMonitor({
    hostname: "worker-0",
    read: () => d.sensors.read(),
    clock,
    alarms,
    agent: { degrade: () => {}, reset: () => {}, powerCycle: () => {} },
    auditIntervalMs,
    degradeAuditMs: 3_600_000,
    ...(feed ? { events: feed } : {}),
  });
  monitor.start();
  feed?.start();
  t.teardown(async () => {
    monitor.stop();
    await feed?.stop();
  });
  const crit = (name: string) => alarms.active().some((a) => a.id === SENSOR_ALARM && a.entity === `sensor=${name}` && a.severity === "critical");
  const cross = (name: string) =>
    fetch(`http://127.0.0.1:${r.port}/emulator/sensors/${encodeURIComponent(name)}`, {
      method: "PATCH",
      body: JSON.stringify({ reading: 99, health: "Critical" }),
    });
  return { r, feed, monitor, crit, cross };
}

test("item 13: with events a sensor crossing becomes a 200.007 alarm at once, without waiting for the (60 s) poll", async (t) => {
  const { feed, monitor, crit, cross } = await rig(t, true, 60_000);
  t.true(await until(() => feed!.subscribed && monitor.reads.poll === 1, 10_000), "subscribed, first poll done");
  const t0 = Date.now();
  await cross("CPU1 Temp");
  t.true(await until(() => crit("CPU1 Temp"), 5_000), "the alarm came from the event");
  t.log(`change → alarm: ${Date.now() - t0} ms (events)`);
  t.is(monitor.reads.poll, 1, "no poll ran: the event path raised it");
  t.true(monitor.reads.event >= 2, "read at once and once more to confirm (debounce)");
});

test("item 13: without events the crossing is seen within the poll interval", async (t) => {
  const { monitor, crit, cross } = await rig(t, false, 300);
  t.true(await until(() => monitor.reads.poll >= 1, 5_000));
  await cross("CPU1 Temp");
  t.true(await until(() => crit("CPU1 Temp"), 10_000));
  t.is(monitor.reads.event, 0);
});

test("item 13: across a forced subscription loss no transition is missed (re-subscribe, then reconcile)", async (t) => {
  const { r, feed, monitor, crit, cross } = await rig(t, true, 60_000);
  t.true(await until(() => feed!.subscribed && monitor.reads.poll === 1, 10_000));
  await fetch(`http://127.0.0.1:${r.port}/emulator/events/drop`, { method: "POST" });
  t.true(await until(() => !feed!.subscribed, 5_000), "the loss is noticed");
  await cross("Inlet Temp");
  t.true(await until(() => crit("Inlet Temp"), 10_000), "the change made while unsubscribed is caught by the reconciling read");
  t.is(feed!.stats.losses, 1);
  // The alarm can come from the reconciling read before the new subscription is counted: wait for it (bounded).
  t.true(await until(() => feed!.stats.subscriptions === 2, 10_000), "subscribed again");
  t.is(monitor.reads.poll, 1, "the slow poll did not run: the re-subscription reconciled");
  await cross("Fan1");
  t.true(await until(() => alarmsFor(crit, "Fan1"), 5_000), "events flow again after the re-subscription");
});

function alarmsFor(crit: (n: string) => boolean, name: string): boolean {
  return crit(name);
}
