import { DefaultAlarmManager } from "@metal/core/alarms/manager";
import { VirtualClock } from "@metal/core/clock/virtual-clock";
import { defaultConfig } from "@metal/core/config/index";
import { HostCtx, type MaintenanceEnv } from "@metal/core/fsm/host-context";
import { Mnfa } from "@metal/core/fsm/mnfa";
import { Scheduler } from "@metal/core/fsm/scheduler";
import { SimulatedServiceManager } from "@metal/core/fsm/service-manager";
import { newHostRecord } from "@metal/core/inventory/host";
import { silentLogger } from "@metal/core/logging/logger";
import { type Benchmark, bestOf } from "./harness.js";

/**
 * Scheduler cost per pass over idle hosts (unlocked-enabled-available, no action): every host gets the
 * per-pass audits and the dispatcher's handler choice, as in the mtcAgent main loop. Baseline: the same
 * loop over the same hosts calling an empty function.
 */
function idleScheduler(n: number): Scheduler {
  const clock = new VirtualClock();
  const log = silentLogger();
  const scheduler = new Scheduler(clock, 50);
  const noop = () => undefined;
  const env: MaintenanceEnv = {
    clock,
    log,
    config: defaultConfig(),
    messaging: { command: async () => 0, onMessage: () => noop },
    heartbeat: { addHost: noop, delHost: noop, startHost: noop, stopHost: noop, backoff: noop, recover: noop, activeController: noop, onEvent: () => noop },
    alarms: new DefaultAlarmManager({ clock, log, sinks: [] }),
    bmc: { driverFor: () => undefined },
    sm: new SimulatedServiceManager(
      "controller-0",
      () => [],
      (ms) => clock.sleep(ms),
    ),
    self: "controller-0",
    hosts: () => scheduler.hosts.values(),
    host: (name) => scheduler.hosts.get(name),
    persist: noop,
    mnfa: new Mnfa(() => env),
    dorActive: () => false,
    removeHost: noop,
  };
  for (let i = 0; i < n; i++) {
    const rec = newHostRecord({ hostname: `worker-${i}`, personality: "worker", administrative: "unlocked" });
    rec.operational = "enabled";
    rec.availability = "available";
    rec.action = "none";
    const c = new HostCtx(rec, env);
    c.lastInsvTest = clock.now();
    scheduler.hosts.set(rec.hostname, c);
  }
  return scheduler;
}

const bench: Benchmark = {
  name: "scheduler",
  async run() {
    const results = [];
    const passes = 200;
    for (const n of [500, 2_000, 5_000]) {
      const s = idleScheduler(n);
      for (let i = 0; i < 50; i++) s.pass(); // warm-up (JIT)
      const perPass =
        (await bestOf(5, () => {
          for (let i = 0; i < passes; i++) s.pass();
        })) / passes;
      let sink = 0;
      const visit = (c: HostCtx) => {
        sink += c.rec.degradeMask;
      };
      const empty =
        (await bestOf(5, () => {
          for (let i = 0; i < passes; i++) for (const c of s.hosts.values()) visit(c);
        })) / passes;
      if (sink < 0) throw new Error("unreachable");
      results.push({
        name: `scheduler pass, ${n} idle hosts`,
        figure: perPass,
        unit: "ms/pass",
        baselineName: "empty loop over the same hosts",
        baseline: empty,
        // The harness convention for times: baseline / figure (higher is better).
        ratio: empty / perPass,
        ...(n === 2_000 ? { target: "2,000 hosts per pass < 2 ms", met: perPass < 2 } : {}),
        notes: `${((perPass * 1000) / n).toFixed(3)} µs/host; a pass costs ${(perPass / empty).toFixed(1)}x the empty loop`,
      });
    }
    return results;
  },
};
export default bench;
