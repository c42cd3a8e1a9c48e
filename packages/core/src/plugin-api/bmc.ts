import type { Secret } from "./secret.js";

/** What a BMC plugin may implement. The core asks `supports(cap)` before it calls. */
export const BMC_CAPABILITIES = ["power", "bootDevice", "info", "sensors", "virtualMedia", "console", "events"] as const;
export type BmcCapability = (typeof BMC_CAPABILITIES)[number];

/** Where a BMC is and how to log in to it. */
export interface BmcTarget {
  /** Maintenance hostname the BMC belongs to, for logs and errors. */
  readonly host: string;
  readonly address: string;
  readonly port?: number;
  readonly username: string;
  readonly password: Secret;
  /** Skip TLS verification (Redfish). Off by default. */
  readonly insecure?: boolean;
  /** CA bundle path for TLS verification (Redfish). */
  readonly caFile?: string;
  /** Upper bound for one BMC call, including retries. */
  readonly timeoutMs?: number;
  /** Protocol-specific knobs (cipher suite, privilege, ...). */
  readonly options?: Readonly<Record<string, string | number | boolean>>;
}

export type PowerState = "on" | "off";
export type PowerAction = "on" | "off" | "reset" | "cycle" | "graceful-off" | "graceful-restart";
export type BootDevice = "pxe" | "cd" | "disk" | "bios";
export type BootMode = "uefi" | "legacy";

export interface BmcInfo {
  manufacturer: string;
  model: string;
  serial: string;
  firmwareVersion: string;
  powerState?: PowerState;
  /** Anything else the BMC told us, for `metal bmc info --json`. */
  extra?: Record<string, string>;
}

/** Reference sensor severities: ok, non-critical, critical, non-recoverable, not available. */
export type SensorStatus = "ok" | "nc" | "cr" | "nr" | "na";

export interface SensorReading {
  name: string;
  /** null when the sensor has no reading (e.g. `na`). */
  value: number | null;
  unit: string;
  status: SensorStatus;
  thresholds?: {
    lowerNonRecoverable?: number;
    lowerCritical?: number;
    lowerNonCritical?: number;
    upperNonCritical?: number;
    upperCritical?: number;
    upperNonRecoverable?: number;
  };
}

export interface VirtualMediaStatus {
  inserted: boolean;
  image?: string;
}

/** A byte stream of a host's serial console. */
export interface ConsoleStream {
  onData(listener: (chunk: Buffer) => void): void;
  write(data: Buffer | string): Promise<void>;
  close(): Promise<void>;
}

/**
 * What a power action did, for a plugin that can tell (optional: a plugin may resolve with nothing): every request it
 * sent, in its protocol's words (Redfish ResetType, IPMI chassis verb), with the milliseconds since the action began,
 * and the power state it read back last. Callers print it so an operator sees what happened, not only "done".
 */
export interface PowerSetReport {
  sent: Array<{ request: string; atMs: number }>;
  readBack?: PowerState;
}

export interface PowerControl {
  status(): Promise<PowerState>;
  /**
   * Do `action`. A target with `timeoutMs` bounds the whole action, escalation included (a graceful request gets a share
   * of it, the forced variant the rest); a state that does not show in time is a BmcError 'timeout' whose message says
   * what was sent and what was read back.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: plugins written against API 1 resolve with nothing
  set(action: PowerAction): Promise<void | PowerSetReport>;
}
export interface BootDeviceControl {
  set(device: BootDevice, options?: { persistent?: boolean; mode?: BootMode }): Promise<void>;
}
export interface InfoQuery {
  get(): Promise<BmcInfo>;
}
/** A sensor resource that did not answer while others did (e.g. Redfish Chassis Thermal answering 500). */
export interface SensorReadFailure {
  /** The resource, e.g. "/redfish/v1/Chassis/1/Thermal". */
  resource: string;
  code: BmcErrorCode;
  message: string;
}

/** The readings that answered; `failed` names the resources that did not (absent when all answered). */
export type SensorReadings = SensorReading[] & { readonly failed?: readonly SensorReadFailure[] };

export interface SensorQuery {
  /** Every reading that answered; throws a BmcError only when no sensor resource answered. */
  read(): Promise<SensorReadings>;
}
export interface VirtualMediaControl {
  insert(imageUrl: string): Promise<void>;
  eject(): Promise<void>;
  status(): Promise<VirtualMediaStatus>;
}
export interface ConsoleAccess {
  open(): Promise<ConsoleStream>;
}

/** Something changed on the BMC (Redfish EventService: ResourceChanged, Alert; see issue 15 item 13). */
export interface BmcEvent {
  /** What it is about: the power state, a sensor, or anything else. */
  kind: "power" | "sensor" | "other";
  /** The resource it names (Redfish OriginOfCondition), when the BMC says. */
  origin?: string;
  /** e.g. "ResourceEvent.1.0.ResourceChanged". */
  messageId: string;
  severity?: string;
  message?: string;
}

/** A live subscription; close() ends it (idempotent). */
export interface EventSubscription {
  close(): Promise<void>;
}

/**
 * Change events from the BMC, so callers need not poll for every change. Events may be lost (a BMC reset drops
 * subscriptions): `onLost` is called once when the subscription ends without close(), and the caller subscribes
 * again and reconciles with one poll. `subscribe` throws a BmcError (code unsupported) when this BMC has no
 * event service after all.
 */
export interface EventSource {
  subscribe(onEvent: (e: BmcEvent) => void, onLost: (why: string) => void): Promise<EventSubscription>;
}

/**
 * One connection to one BMC. A capability's member is present exactly when `supports(cap)` is true;
 * the conformance suite checks that.
 */
export interface BmcDriver {
  readonly protocol: string;
  supports(cap: BmcCapability): boolean;
  readonly power?: PowerControl;
  readonly bootDevice?: BootDeviceControl;
  readonly info?: InfoQuery;
  readonly sensors?: SensorQuery;
  readonly virtualMedia?: VirtualMediaControl;
  readonly console?: ConsoleAccess;
  readonly events?: EventSource;
  /** Log out, close sessions and child processes. Always safe to call twice. */
  close(): Promise<void>;
}

/** What a BMC plugin registers: one per protocol it speaks. */
export interface BmcDriverFactory {
  readonly protocol: string;
  readonly capabilities: readonly BmcCapability[];
  create(target: BmcTarget): BmcDriver;
}

/**
 * Why a BMC call failed, so callers can tell retryable faults from wrong passwords. `auth`: the credentials
 * were refused; `permission`: they were accepted but the account's privilege/role is too low for the call
 * (IPMI "Insufficient privilege level", Redfish 403 InsufficientPrivilege); neither is worth a retry.
 */
export const BMC_ERROR_CODES = ["auth", "permission", "unreachable", "timeout", "busy", "unsupported", "protocol", "conflict"] as const;
export type BmcErrorCode = (typeof BMC_ERROR_CODES)[number];

/**
 * A BMC call's failure. Callers recognise it with `isBmcError(err)` (by its stable `code`), never with
 * `instanceof`: a published plugin may bundle its own copy of `@metal/core`, whose BmcError is another class.
 */
export class BmcError extends Error {
  override readonly name = "BmcError";
  constructor(
    readonly code: BmcErrorCode,
    message: string,
    readonly host?: string,
  ) {
    super(message);
  }
}

/**
 * True for a BMC error from any copy of `@metal/core` (or any error object carrying one of BMC_ERROR_CODES as
 * its `code`): the code is the contract across the plugin boundary, the class is not.
 */
export function isBmcError(err: unknown): err is BmcError {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && (BMC_ERROR_CODES as readonly string[]).includes(code);
}

/** All BMC protocols known to this process, from every loaded plugin. */
export interface BmcRegistry {
  register(factory: BmcDriverFactory, pluginName: string): void;
  /** Throws a clear error naming the protocol when nobody provides it. */
  get(protocol: string): BmcDriverFactory;
  has(protocol: string): boolean;
  list(): ReadonlyArray<{ protocol: string; plugin: string; capabilities: readonly BmcCapability[] }>;
  /** Create a driver and check that it offers `required`, naming the plugin when it does not. */
  connect(protocol: string, target: BmcTarget, required?: readonly BmcCapability[]): BmcDriver;
}
