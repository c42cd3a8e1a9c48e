import { readFileSync } from "node:fs";

/** One sensor of the emulated chassis; drives Thermal/Power and the Sensors collection alike. */
export interface EmulatedSensor {
  name: string;
  kind: "temperature" | "fan" | "voltage" | "power";
  reading: number | null;
  /** Redfish Status.Health; "Absent" makes Status.State "Absent" (reads as na). */
  health: "OK" | "Warning" | "Critical" | "Absent";
  thresholds?: { lowerCritical?: number; upperNonCritical?: number; upperCritical?: number; upperFatal?: number };
}

/**
 * Vendor quirks the emulator can play (peers.md 5.11 and 5.12), so the client's handling of each is tested
 * against a server that really behaves that way.
 */
export interface EmulatorQuirks {
  /** Supermicro: a boot override PATCH must carry BootSourceOverrideMode or it is refused. */
  bootModeRequired?: boolean;
  /** HPE: BootSourceOverrideMode is read-only; a PATCH that names it gets 400. */
  bootModeReadOnly?: boolean;
  /** Supermicro X10: no BootSourceOverrideMode property at all. */
  noBootMode?: boolean;
  /** AMI: the system refuses PATCH (405); boot settings go to the @Redfish.Settings object ("FutureState"). */
  bootSettingsObject?: boolean;
  /** iDRAC >= 6 and sushy-tools >= 1.1: VirtualMedia lives under the System instead of the Manager. */
  virtualMediaUnderSystem?: boolean;
  /** Reset types are published through @Redfish.ActionInfo instead of inline AllowableValues. */
  resetActionInfo?: boolean;
  /** No SessionService: basic auth only (like sushy-tools). */
  noSessions?: boolean;
  /** A PATCH without If-Match gets 428 Precondition Required; a stale If-Match gets 412. */
  ifMatchRequired?: boolean;
  /** VirtualMedia has no InsertMedia/EjectMedia actions: media is changed by PATCHing Image and Inserted. */
  virtualMediaPatchOnly?: boolean;
  /** InsertMedia carrying `Inserted` or `WriteProtected` gets 400 ActionParameterUnknown. */
  insertMediaImageOnly?: boolean;
  /** InsertMedia without `TransferProtocolType` gets 400 ActionParameterMissing. */
  transferProtocolRequired?: boolean;
}

/** Fault knobs; every one can be changed while the emulator runs. */
export interface EmulatorFaults {
  /** Added to every response. */
  latencyMs: number;
  /** Sessions beyond this many get 503 SessionLimitExceeded (iDRAC's RAC0218). */
  sessionCap: number;
  /** SessionService.SessionTimeout in seconds: an idle session expires after it. */
  sessionTimeoutS: number;
  /** The next N authenticated requests get 401, as after a BMC reset flushed every session. */
  unauthorizedNext: number;
  /** 409 for a reset that asks for the state the system is already in (iDRAC). */
  conflictOnSameState: boolean;
  /** A power transition takes this long; meanwhile PowerState is PoweringOn/Off and Reset gets 503. */
  poweringMs: number;
  /** The OS ignores GracefulShutdown/GracefulRestart (no ACPI handler), so only forced actions work. */
  gracefulIgnored: boolean;
  /** Virtual media insert/eject completes this long after the action returns. */
  mediaDelayMs: number;
  /**
   * GETs of a path ending in a key answer that HTTP status with a Redfish error, e.g. `{"Chassis/1/Thermal": 500}`
   * (an iDRAC firmware's Thermal) or `{"Managers/1": 404}`.
   */
  failing: Record<string, number>;
  /** PowerState as the System and Chassis report it: "" = the real state, "null" = JSON null, else that string ("Paused"). */
  powerStateAs: string;
}

export interface EmulatorProfile {
  redfishVersion: string;
  username: string;
  password: string;
  systemId: string;
  chassisId: string;
  managerId: string;
  manufacturer: string;
  /** "" leaves Model out of the System (it is optional in the schema). */
  model: string;
  serial: string;
  partNumber: string;
  biosVersion: string;
  bmcFirmware: string;
  resetTypes: string[];
  bootTargets: string[];
  sensors: EmulatedSensor[];
  /** Inventory served under the System (Processors, SimpleStorage, EthernetInterfaces), for clients like sushy. */
  processors: Array<{ model: string; cores: number; threads: number }>;
  disks: Array<{ name: string; capacityBytes: number }>;
  nics: Array<{ mac: string; speedMbps: number }>;
  quirks: EmulatorQuirks;
  faults: EmulatorFaults;
}

export const DEFAULT_FAULTS: EmulatorFaults = {
  latencyMs: 0,
  sessionCap: 16,
  sessionTimeoutS: 300,
  unauthorizedNext: 0,
  conflictOnSameState: false,
  poweringMs: 0,
  gracefulIgnored: false,
  mediaDelayMs: 0,
  failing: {},
  powerStateAs: "",
};

export function defaultProfile(): EmulatorProfile {
  return {
    redfishVersion: "1.11.0",
    username: "root",
    password: "calvin",
    systemId: "1",
    chassisId: "1",
    managerId: "1",
    manufacturer: "Metal Emulated Systems",
    model: "RF-1000",
    serial: "EMU0001",
    partNumber: "PN-RF-1000",
    biosVersion: "2.4.1",
    bmcFirmware: "5.10.00",
    resetTypes: ["On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "ForceOn", "PowerCycle"],
    bootTargets: ["None", "Pxe", "Cd", "Hdd", "BiosSetup", "Usb"],
    sensors: [
      { name: "CPU1 Temp", kind: "temperature", reading: 41, health: "OK", thresholds: { upperNonCritical: 85, upperCritical: 95, upperFatal: 100 } },
      { name: "Inlet Temp", kind: "temperature", reading: 23, health: "OK", thresholds: { upperNonCritical: 42, upperCritical: 47 } },
      { name: "Fan1", kind: "fan", reading: 5880, health: "OK", thresholds: { lowerCritical: 600 } },
      { name: "Fan2", kind: "fan", reading: 5760, health: "OK", thresholds: { lowerCritical: 600 } },
      { name: "PS1 Voltage", kind: "voltage", reading: 230, health: "OK", thresholds: { lowerCritical: 180, upperCritical: 264 } },
      { name: "System Power", kind: "power", reading: 182, health: "OK" },
    ],
    processors: [
      { model: "Emulated Xeon 8-core", cores: 8, threads: 16 },
      { model: "Emulated Xeon 8-core", cores: 8, threads: 16 },
    ],
    disks: [{ name: "Disk0", capacityBytes: 480_103_981_056 }],
    nics: [{ mac: "52:54:00:12:34:56", speedMbps: 10_000 }],
    quirks: {},
    faults: structuredClone(DEFAULT_FAULTS),
  };
}

/** What a profile file or a test gives: any subset; the rest comes from the default. */
export type EmulatorProfileInput = Partial<Omit<EmulatorProfile, "faults" | "quirks">> & { faults?: Partial<EmulatorFaults>; quirks?: EmulatorQuirks };

/** A profile file holds any subset of the profile; the rest comes from the default. */
export function loadProfile(file: string): EmulatorProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: not a JSON profile: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${file}: a profile is a JSON object`);
  return mergeProfile(raw as EmulatorProfileInput);
}

export function mergeProfile(partial: EmulatorProfileInput): EmulatorProfile {
  const base = defaultProfile();
  const known = new Set(Object.keys(base));
  for (const k of Object.keys(partial)) if (!known.has(k)) throw new Error(`unknown profile key '${k}'`);
  return {
    ...base,
    ...partial,
    quirks: { ...base.quirks, ...partial.quirks },
    faults: { ...base.faults, ...structuredClone(partial.faults) },
  };
}
