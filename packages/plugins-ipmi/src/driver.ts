import {
  type BmcCapability,
  type BmcDriver,
  BmcError,
  type BmcInfo,
  type BmcTarget,
  type BootDevice,
  type BootMode,
  type Clock,
  type ConsoleAccess,
  type PowerAction,
  type PowerState,
  type SensorReading,
} from "@metal/core/plugin-api";
import { Ipmitool, ipmitoolOptions } from "./ipmitool.js";
import { MAX_PARSE_ERRORS, parseInfo, parsePowerStatus, parseSensorList } from "./parse.js";
import { SolConsole } from "./sol.js";

export const IPMI_CAPABILITIES: readonly BmcCapability[] = ["power", "bootDevice", "info", "sensors", "console"];

/** `chassis power <verb>` and the confirmation ipmitool prints (reference §6.2). */
const POWER_COMMANDS: Record<PowerAction, { verb: string; expect: RegExp }> = {
  on: { verb: "on", expect: /Chassis Power Control: Up\/On/ },
  off: { verb: "off", expect: /Chassis Power Control: Down\/Off/ },
  "graceful-off": { verb: "soft", expect: /Chassis Power Control: Soft/ },
  reset: { verb: "reset", expect: /Chassis Power Control: Reset/ },
  // IPMI has no graceful restart; a reset is what the reference's reset progression sends.
  "graceful-restart": { verb: "reset", expect: /Chassis Power Control: Reset/ },
  cycle: { verb: "cycle", expect: /Chassis Power Control: Cycle/ },
};

const BOOT_DEVICES: Record<BootDevice, string> = { pxe: "pxe", cd: "cdrom", disk: "disk", bios: "bios" };

/** One IPMI BMC driven through ipmitool (-I lanplus), the password never on the command line. */
export class IpmiDriver implements BmcDriver {
  readonly protocol = "ipmi";
  readonly tool: Ipmitool;
  private closed = false;
  private readonly sols = new Set<SolConsole>();
  /** SOL, unless the target says this BMC has none (options.sol = false). */
  readonly console: ConsoleAccess | undefined;

  constructor(
    private readonly target: BmcTarget,
    clock: Clock,
  ) {
    this.tool = new Ipmitool(target, ipmitoolOptions(target), clock);
    if (target.options?.sol !== false) this.console = { open: () => this.openSol() };
  }

  private async openSol(): Promise<SolConsole> {
    if (this.closed) throw new BmcError("protocol", "driver is closed", this.target.host);
    const sol = await SolConsole.open(this.target, this.tool, () => this.sols.delete(sol));
    this.sols.add(sol);
    return sol;
  }

  supports(cap: BmcCapability): boolean {
    return cap === "console" ? this.console !== undefined : IPMI_CAPABILITIES.includes(cap);
  }

  private run(command: string[]): Promise<string> {
    if (this.closed) return Promise.reject(new BmcError("protocol", "driver is closed", this.target.host));
    return this.tool.run(command);
  }

  private async status(): Promise<PowerState> {
    const out = await this.run(["chassis", "power", "status"]);
    const s = parsePowerStatus(out);
    if (!s) throw new BmcError("protocol", `unexpected power status reply: ${out.trim().slice(0, 120)}`, this.target.host);
    return s;
  }

  readonly power = {
    status: (): Promise<PowerState> => this.status(),
    set: async (action: PowerAction): Promise<void> => {
      // A reset or cycle of a host that is off brings it up (BMCs refuse "cycle" in the off state).
      if ((action === "reset" || action === "cycle" || action === "graceful-restart") && (await this.status()) === "off") action = "on";
      const { verb, expect } = POWER_COMMANDS[action];
      const out = await this.run(["chassis", "power", verb]);
      if (!expect.test(out)) throw new BmcError("protocol", `power ${verb}: unexpected reply: ${out.trim().slice(0, 120)}`, this.target.host);
    },
  };

  readonly bootDevice = {
    set: async (device: BootDevice, options: { persistent?: boolean; mode?: BootMode } = {}): Promise<void> => {
      const opts = [...(options.persistent ? ["persistent"] : []), ...(options.mode === "uefi" ? ["efiboot"] : [])];
      const out = await this.run(["chassis", "bootdev", BOOT_DEVICES[device], ...(opts.length ? [`options=${opts.join(",")}`] : [])]);
      if (!/Set Boot Device to/.test(out)) throw new BmcError("protocol", `bootdev: unexpected reply: ${out.trim().slice(0, 120)}`, this.target.host);
    },
  };

  readonly info = {
    get: async (): Promise<BmcInfo> => {
      const mc = await this.run(["mc", "info"]);
      // FRU and restart cause are optional: many BMCs (and ipmi_sim) lack one or the other.
      const fru = await this.run(["fru", "print", "0"]).catch(() => "");
      const info = parseInfo(mc, fru);
      const cause = await this.run(["chassis", "restart_cause"]).catch(() => "");
      const m = /System restart cause:\s*(.+)/i.exec(cause);
      if (m?.[1]) info.extra = { ...info.extra, restartCause: m[1].trim() };
      info.powerState = await this.status();
      if (!info.manufacturer || !info.firmwareVersion) throw new BmcError("protocol", "mc info: no Manufacturer or Firmware Revision", this.target.host);
      return info;
    },
  };

  readonly sensors = {
    read: async (): Promise<SensorReading[]> => {
      const { readings, errors } = parseSensorList(await this.run(["sensor", "list"]));
      if (errors > MAX_PARSE_ERRORS) throw new BmcError("protocol", `sensor list: ${errors} malformed lines`, this.target.host);
      return readings;
    },
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.sols].map((s) => s.close()));
    this.tool.close();
  }
}
