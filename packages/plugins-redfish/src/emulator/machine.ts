import type { EmulatedSensor, EmulatorProfile } from "./profile.js";

export type RedfishPowerState = "On" | "Off" | "PoweringOn" | "PoweringOff";

/** The emulated server behind the BMC: power, boot override, virtual media, sensors. Real timers (it is a peer). */
export class EmulatedMachine {
  power: RedfishPowerState = "Off";
  boot = { enabled: "Disabled", target: "None", mode: "UEFI" as "UEFI" | "Legacy" };
  /** What an AMI-style settings object holds until the next boot applies it. */
  pendingBoot: Record<string, unknown> | undefined;
  media = { inserted: false, image: null as string | null };
  secureBoot = false;
  /** Called when the power state settles On or Off (the emulator's EventService emits ResourceChanged). */
  onPower?: (state: "On" | "Off") => void;
  /** The TransferProtocolType the inserted media came with (named, or derived from the URL scheme). */
  mediaProtocol: string | null = null;
  sensors: EmulatedSensor[];
  /** Every reset type the BMC executed, in order; tests read it to see graceful vs forced. */
  readonly resets: string[] = [];
  private transition: NodeJS.Timeout | undefined;
  private mediaTimer: NodeJS.Timeout | undefined;

  constructor(private readonly profile: EmulatorProfile) {
    this.sensors = structuredClone(profile.sensors);
  }

  get transitioning(): boolean {
    return this.power === "PoweringOn" || this.power === "PoweringOff";
  }

  isOn(): boolean {
    return this.power === "On" || this.power === "PoweringOff";
  }

  /** Apply a ComputerSystem.Reset. Returns false when the request names the state already reached. */
  reset(type: string): "done" | "same-state" {
    const f = this.profile.faults;
    this.resets.push(type);
    const wantsOn = type === "On" || type === "ForceOn";
    const wantsOff = type === "ForceOff" || type === "GracefulShutdown";
    if ((wantsOn && this.isOn()) || (wantsOff && !this.isOn())) return "same-state";
    if (f.gracefulIgnored && (type === "GracefulShutdown" || type === "GracefulRestart")) return "done";
    if (wantsOn) this.go("On");
    else if (wantsOff) this.go("Off");
    else if (this.isOn()) {
      // Restart or cycle of a running host: it goes down and comes back; the state reads On at the end.
      this.go("On");
    } else if (type === "PowerCycle" || type === "ForceRestart") {
      this.go("On");
    }
    return "done";
  }

  private go(target: "On" | "Off"): void {
    clearTimeout(this.transition);
    const ms = this.profile.faults.poweringMs;
    const settle = () => {
      const changed = this.power !== target;
      this.power = target;
      this.applyPendingBoot(target);
      if (changed) this.onPower?.(target);
    };
    if (ms <= 0) {
      settle();
      return;
    }
    this.power = target === "On" ? "PoweringOn" : "PoweringOff";
    this.transition = setTimeout(settle, ms);
  }

  private applyPendingBoot(target: "On" | "Off"): void {
    if (target === "On" && this.pendingBoot) {
      Object.assign(this.boot, this.pendingBoot);
      this.pendingBoot = undefined;
    }
  }

  setMedia(inserted: boolean, image: string | null, protocol: string | null = null): void {
    clearTimeout(this.mediaTimer);
    const ms = this.profile.faults.mediaDelayMs;
    const apply = () => {
      this.media = { inserted, image };
      this.mediaProtocol = inserted ? (protocol ?? image?.split(":")[0]?.toUpperCase() ?? null) : null;
    };
    if (ms <= 0) apply();
    else this.mediaTimer = setTimeout(apply, ms);
  }

  stop(): void {
    clearTimeout(this.transition);
    clearTimeout(this.mediaTimer);
  }
}
