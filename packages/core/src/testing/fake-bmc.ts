import type {
  BmcCapability,
  BmcDriver,
  BmcDriverFactory,
  BmcInfo,
  BmcTarget,
  BootDevice,
  BootMode,
  ConsoleStream,
  PowerAction,
  PowerState,
  SensorReading,
} from "../plugin-api/bmc.js";
import { BmcError } from "../plugin-api/bmc.js";
import type { MetalPluginModule } from "../plugin-api/plugin.js";
import { PluginTokens } from "../plugin-api/tokens.js";

/** The simulated machine behind one fake BMC. Tests and the lab reach in to change it. */
export class FakeMachine {
  power: PowerState = "off";
  boot: { device: BootDevice; persistent: boolean; mode?: BootMode } = { device: "disk", persistent: true };
  media: { inserted: boolean; image?: string } = { inserted: false };
  sensors: SensorReading[] = [
    { name: "Temp_CPU0", value: 45, unit: "degrees C", status: "ok", thresholds: { upperNonCritical: 85, upperCritical: 95 } },
    { name: "Fan_1", value: 5600, unit: "RPM", status: "ok", thresholds: { lowerCritical: 500 } },
    { name: "PSU1_Vin", value: 230, unit: "Volts", status: "ok" },
  ];
  /** Every power action the BMC executed, in order. */
  readonly actions: PowerAction[] = [];
  readonly consoleListeners = new Set<(chunk: Buffer) => void>();
  /** Fault knobs. */
  unreachable = false;
  /** The BMC accepts power requests but the server's power does not change (a stuck power controller). */
  powerStuck = false;
  /** Called for every power request the BMC accepted, applied or not (the lab's report of BMC actions). */
  onRequest?: (action: PowerAction, applied: boolean) => void;
  password = "fake-password";
  /** Called after a power transition; the lab uses it to boot or kill the simulated host. */
  onPower?: (state: PowerState, action: PowerAction) => void;

  emitConsole(text: string): void {
    for (const l of this.consoleListeners) l(Buffer.from(text));
  }
}

/** address → machine; the registry the fake plugin's drivers talk to. */
export class FakeBmcFabric {
  private readonly machines = new Map<string, FakeMachine>();
  machine(address: string): FakeMachine {
    let m = this.machines.get(address);
    if (!m) {
      m = new FakeMachine();
      this.machines.set(address, m);
    }
    return m;
  }
}

export const FAKE_BMC_CAPABILITIES: readonly BmcCapability[] = ["power", "bootDevice", "info", "sensors", "virtualMedia", "console"];

class FakeBmcDriver implements BmcDriver {
  readonly protocol = "fake";
  private closed = false;

  constructor(
    private readonly target: BmcTarget,
    private readonly m: FakeMachine,
  ) {}

  supports(cap: BmcCapability): boolean {
    return FAKE_BMC_CAPABILITIES.includes(cap);
  }

  private async access(): Promise<FakeMachine> {
    if (this.closed) throw new BmcError("protocol", "driver is closed", this.target.host);
    if (this.m.unreachable) throw new BmcError("unreachable", `BMC ${this.target.address} is unreachable`, this.target.host);
    if (this.target.password.reveal() !== this.m.password) throw new BmcError("auth", `BMC ${this.target.address} rejected the credentials`, this.target.host);
    await Promise.resolve();
    return this.m;
  }

  readonly power = {
    status: async (): Promise<PowerState> => (await this.access()).power,
    set: async (action: PowerAction): Promise<void> => {
      const m = await this.access();
      m.actions.push(action);
      m.onRequest?.(action, !m.powerStuck);
      if (m.powerStuck) return;
      // A reset or a power cycle of a machine that is off does nothing (IPMI chassis control; a real BMC does not
      // boot a powered-off server on a reset): the machine stays off.
      if ((action === "reset" || action === "cycle" || action === "graceful-restart") && m.power === "off") return;
      const next: PowerState = action === "off" || action === "graceful-off" ? "off" : "on";
      m.power = next;
      m.onPower?.(next, action);
    },
  };

  readonly bootDevice = {
    set: async (device: BootDevice, options?: { persistent?: boolean; mode?: BootMode }): Promise<void> => {
      const m = await this.access();
      m.boot = { device, persistent: options?.persistent ?? false, ...(options?.mode ? { mode: options.mode } : {}) };
    },
  };

  readonly info = {
    get: async (): Promise<BmcInfo> => {
      const m = await this.access();
      return { manufacturer: "metal", model: "FakeBMC", serial: `FAKE-${this.target.address}`, firmwareVersion: "1.0.0", powerState: m.power };
    },
  };

  readonly sensors = {
    read: async (): Promise<SensorReading[]> => structuredClone((await this.access()).sensors),
  };

  readonly virtualMedia = {
    insert: async (imageUrl: string): Promise<void> => {
      const m = await this.access();
      if (m.media.inserted) throw new BmcError("conflict", "virtual media already inserted", this.target.host);
      m.media = { inserted: true, image: imageUrl };
    },
    eject: async (): Promise<void> => {
      const m = await this.access();
      m.media = { inserted: false };
    },
    status: async () => structuredClone((await this.access()).media),
  };

  readonly console = {
    open: async (): Promise<ConsoleStream> => {
      const m = await this.access();
      const listeners: Array<(c: Buffer) => void> = [];
      const fan = (c: Buffer) => {
        for (const l of listeners) l(c);
      };
      m.consoleListeners.add(fan);
      return {
        onData: (l) => listeners.push(l),
        // The fake machine echoes what is typed, as a serial getty would.
        write: async (data) => fan(Buffer.from(data)),
        close: async () => {
          m.consoleListeners.delete(fan);
        },
      };
    },
  };

  async close(): Promise<void> {
    this.closed = true;
  }
}

export function fakeBmcFactory(fabric: FakeBmcFabric): BmcDriverFactory {
  return {
    protocol: "fake",
    capabilities: FAKE_BMC_CAPABILITIES,
    create: (target) => new FakeBmcDriver(target, fabric.machine(target.address)),
  };
}

export const FAKE_BMC_PLUGIN_NAME = "@metal/core/fake-bmc";

/** The fake BMC as a plugin module, registered like any other plugin (bmc:fake). */
export function fakeBmcPlugin(fabric = new FakeBmcFabric()): MetalPluginModule {
  return {
    capabilities: { fake: FAKE_BMC_CAPABILITIES },
    register(container) {
      container.resolve(PluginTokens.BmcRegistry).register(fakeBmcFactory(fabric), FAKE_BMC_PLUGIN_NAME);
    },
  };
}
