import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MtcAgent } from "../../src/agent/mtc-agent.js";
import { DefaultAlarmManager } from "../../src/alarms/manager.js";
import { VirtualClock } from "../../src/clock/virtual-clock.js";
import { defaultConfig, type MetalConfigInput } from "../../src/config/index.js";
import { DefaultBmcRegistry } from "../../src/di/bmc-registry.js";
import { secretFromString } from "../../src/di/secret.js";
import { SimulatedServiceManager } from "../../src/fsm/service-manager.js";
import { MemoryInventoryStore } from "../../src/inventory/file-store.js";
import type { NewHost } from "../../src/inventory/host.js";
import { silentLogger } from "../../src/logging/logger.js";
import { FakeBmcFabric, fakeBmcFactory } from "../../src/testing/fake-bmc.js";
import { FakeFabric, type FakeHostOptions } from "./fake-hosts.js";

export interface RigOptions {
  config?: MetalConfigInput;
  store?: MemoryInventoryStore;
  /** Controller uptime at agent start (default: past the DOR window). */
  uptimeS?: number;
}

/** A mtcAgent in virtual time over fake hosts, a fake BMC fabric and a simulated SM. */
export class Rig {
  readonly clock = new VirtualClock();
  readonly bmcFabric = new FakeBmcFabric();
  readonly fabric: FakeFabric;
  readonly agent: MtcAgent;
  readonly sm: SimulatedServiceManager;
  readonly store: MemoryInventoryStore;
  readonly dir = mkdtempSync(join(tmpdir(), "metal-rig-"));

  constructor(o: RigOptions = {}) {
    const config = defaultConfig({ root: this.dir, ...o.config, maintenance: { tickMs: 100, ...o.config?.maintenance } });
    const log = silentLogger();
    this.fabric = new FakeFabric(this.clock, config.node.hostname, this.bmcFabric);
    const registry = new DefaultBmcRegistry();
    registry.register(fakeBmcFactory(this.bmcFabric), "fake");
    this.store = o.store ?? new MemoryInventoryStore();
    this.sm = new SimulatedServiceManager(
      config.node.hostname,
      () =>
        this.agent
          .hosts()
          .filter((h) => h.personality === "controller")
          .map((h) => h.hostname),
      (ms) => this.clock.sleep(ms),
    );
    this.agent = new MtcAgent({
      config,
      clock: this.clock,
      log,
      messaging: this.fabric,
      heartbeat: this.fabric,
      bmcRegistry: registry,
      resolveSecret: () => secretFromString("fake-password"),
      store: this.store,
      alarms: new DefaultAlarmManager({ clock: this.clock, log, sinks: [] }),
      sm: this.sm,
      controllerUptimeS: o.uptimeS ?? 100_000,
    });
  }

  /** Add a simulated host and its inventory record. `bmc: true` gives it a fake BMC at 10.0.0.<n>. */
  host(name: string, o: Omit<Partial<NewHost>, "bmc"> & FakeHostOptions & { bmc?: boolean } = {}): void {
    const bmcAddress = o.bmc ? `10.0.0.${this.fabric.hosts.size + 1}` : undefined;
    this.fabric.add(name, { ...o, ...(bmcAddress ? { bmcAddress } : {}) });
    const r = this.agent.addHost({
      hostname: name,
      personality: o.personality ?? "worker",
      mgmtIp: `192.168.204.${this.fabric.hosts.size + 10}`,
      ...(o.subfunctions ? { subfunctions: o.subfunctions } : {}),
      ...(o.administrative ? { administrative: o.administrative } : {}),
      ...(bmcAddress ? { bmc: { type: "fake", address: bmcAddress, username: "admin", secretRef: "test" } } : {}),
    });
    if (!r.ok) throw new Error(r.reason);
  }

  get(name: string) {
    const h = this.agent.host(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  state(name: string): string {
    const h = this.get(name);
    return `${h.administrative}-${h.operational}-${h.availability}`;
  }

  async until(pred: () => boolean, limitMs: number, step = 500): Promise<boolean> {
    return this.clock.advanceUntil(pred, limitMs, step);
  }

  alarm(id: string, host: string): string | undefined {
    return this.agent.alarms.severity(id, host);
  }

  async stop(): Promise<void> {
    this.fabric.dispose();
    await this.agent.stop();
  }
}
