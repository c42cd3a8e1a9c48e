import {
  type BmcCapability,
  type BmcDriver,
  BmcError,
  type BmcInfo,
  type BmcTarget,
  type BootDevice,
  type BootMode,
  type Clock,
  type Logger,
  type PowerAction,
  type PowerSetReport,
  type PowerState,
  type SensorReadFailure,
  type SensorReading,
  type SensorReadings,
  type VirtualMediaStatus,
} from "@metal/core/plugin-api";
import { type AuthMode, messageIdOf, RedfishClient } from "./client/redfish-client.js";
import { RedfishEventSource } from "./events.js";
import { ALL_RESET_TYPES, planFor, powerStateOf, resetTypeForAttempt } from "./power.js";
import { mergeBySeverity, parsePower, parseSensor, parseThermal } from "./sensors.js";

type Json = Record<string, unknown>;

/** `events` is declared: subscribing to a BMC without an EventService/SSE fails with code unsupported, and callers poll. */
export const REDFISH_CAPABILITIES: readonly BmcCapability[] = ["power", "bootDevice", "info", "sensors", "virtualMedia", "events"];

const BOOT_TARGETS: Record<BootDevice, string> = { pxe: "Pxe", cd: "Cd", disk: "Hdd", bios: "BiosSetup" };

function link(v: unknown): string | undefined {
  const id = (v as { "@odata.id"?: unknown } | undefined)?.["@odata.id"];
  return typeof id === "string" ? id : undefined;
}

function firstLink(v: unknown): string | undefined {
  return Array.isArray(v) ? link(v[0]) : undefined;
}

function opt<T extends string | number | boolean>(target: BmcTarget, key: string, fallback: T): T {
  const v = target.options?.[key];
  return (typeof v === typeof fallback ? v : fallback) as T;
}

/** `https://addr[:port]`; IPv6 literals are bracketed (reference §6.2 wraps them for redfishtool the same way). */
export function redfishBaseUrl(target: BmcTarget): string {
  const scheme = opt(target, "scheme", "https");
  const host = target.address.includes(":") && !target.address.startsWith("[") ? `[${target.address}]` : target.address;
  return `${scheme}://${host}${target.port ? `:${target.port}` : ""}`;
}

/** VirtualMedia TransferProtocolType (schema enum) for an image URL's scheme; undefined when it has none. */
export function transferProtocolOf(imageUrl: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(imageUrl)?.[1]?.toLowerCase();
  const map: Record<string, string> = {
    http: "HTTP",
    https: "HTTPS",
    nfs: "NFS",
    cifs: "CIFS",
    smb: "CIFS",
    ftp: "FTP",
    sftp: "SFTP",
    scp: "SCP",
    tftp: "TFTP",
  };
  return scheme ? map[scheme] : undefined;
}

/** One Redfish BMC: the client owns the session; this maps the metal contract onto the resource tree. */
export class RedfishDriver implements BmcDriver {
  readonly protocol = "redfish";
  readonly client: RedfishClient;
  private paths: { system: string; chassis?: string; manager?: string } | undefined;
  private resetTypes: string[] | undefined;
  private readonly retries: number;
  private readonly verifyMs: number;
  private readonly pollMs: number;
  /** Server-Sent Events from the BMC's EventService. */
  readonly events: RedfishEventSource;

  constructor(
    private readonly target: BmcTarget,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {
    this.retries = opt(target, "powerRetries", 4);
    this.verifyMs = opt(target, "powerVerifyMs", 20_000);
    this.pollMs = opt(target, "pollMs", 500);
    this.client = new RedfishClient({
      baseUrl: redfishBaseUrl(target),
      username: target.username,
      password: target.password,
      host: target.host,
      clock,
      ...(logger ? { logger } : {}),
      authMode: opt(target, "auth", "auto") as AuthMode,
      ...(target.insecure ? { insecure: true } : {}),
      ...(target.caFile ? { caFile: target.caFile } : {}),
      requestTimeoutMs: target.timeoutMs ?? 30_000,
      retries: opt(target, "httpRetries", 4),
      backoffMs: opt(target, "backoffMs", 500),
    });
    this.events = new RedfishEventSource(this.client, target.host, logger);
  }

  supports(cap: BmcCapability): boolean {
    return REDFISH_CAPABILITIES.includes(cap);
  }

  private async resolvePaths(): Promise<{ system: string; chassis?: string; manager?: string }> {
    if (this.paths) return this.paths;
    const systems = await this.client.get("/redfish/v1/Systems");
    const wanted = this.target.options?.systemId;
    const members = Array.isArray(systems.Members) ? systems.Members.map(link).filter((x): x is string => !!x) : [];
    const system = wanted ? members.find((m) => m.endsWith(`/${String(wanted)}`)) : members[0];
    if (!system) throw new BmcError("protocol", `no ComputerSystem${wanted ? ` '${String(wanted)}'` : ""} in /redfish/v1/Systems`, this.target.host);
    const doc = await this.client.get(system);
    const links = (doc.Links ?? {}) as Json;
    const chassis = firstLink(links.Chassis);
    const manager = firstLink(links.ManagedBy);
    this.paths = { system, ...(chassis ? { chassis } : {}), ...(manager ? { manager } : {}) };
    return this.paths;
  }

  private async system(): Promise<Json> {
    return this.client.get((await this.resolvePaths()).system);
  }

  /** ResetType@Redfish.AllowableValues, or the ActionInfo's parameter list (reference §6.1), or all of them. */
  private async allowableResetTypes(sys: Json): Promise<string[]> {
    if (this.resetTypes) return this.resetTypes;
    const action = ((sys.Actions ?? {}) as Json)["#ComputerSystem.Reset"] as Json | undefined;
    if (!action) throw new BmcError("unsupported", "the system has no #ComputerSystem.Reset action", this.target.host);
    let values = action["ResetType@Redfish.AllowableValues"];
    const info = action["@Redfish.ActionInfo"];
    if (!Array.isArray(values) && typeof info === "string") {
      const doc = await this.client.get(info);
      const params = Array.isArray(doc.Parameters) ? (doc.Parameters as Json[]) : [];
      values = params.find((p) => p.Name === "ResetType")?.AllowableValues;
    }
    this.resetTypes = Array.isArray(values) ? values.filter((v): v is string => typeof v === "string") : ALL_RESET_TYPES;
    return this.resetTypes;
  }

  private async postReset(sys: Json, type: string): Promise<"ok" | "conflict"> {
    const action = ((sys.Actions ?? {}) as Json)["#ComputerSystem.Reset"] as Json;
    const targetPath = typeof action.target === "string" ? action.target : `${(await this.resolvePaths()).system}/Actions/ComputerSystem.Reset`;
    const res = await this.client.call("POST", targetPath, { body: { ResetType: type }, accept: [409], retryConflict: false });
    return res.status === 409 ? "conflict" : "ok";
  }

  /** One read of PowerState: on/off, or "unknown" while the BMC reports null (not known yet). */
  private async readPowerOnce(): Promise<PowerState | "unknown"> {
    const sys = await this.system();
    const s = powerStateOf(sys.PowerState);
    if (!s) throw new BmcError("protocol", `PowerState '${String(sys.PowerState)}' is not a Redfish schema value`, this.target.host);
    return s;
  }

  /** PowerState, polling again (bounded by verifyMs) while the BMC reports null; still unknown then is 'busy'. */
  private async readPower(): Promise<PowerState> {
    const deadline = this.clock.now() + this.verifyMs;
    for (let i = 0; i < 10_000; i++) {
      const s = await this.readPowerOnce();
      if (s !== "unknown") return s;
      if (this.clock.now() >= deadline) break;
      await this.clock.sleep(this.pollMs);
    }
    throw new BmcError("busy", "the BMC does not report a PowerState yet (null); try again later", this.target.host);
  }

  /** Poll until the power state reads `want` or `until` (clock ms) passes; the last reading (null ones polled past). */
  private async settles(want: PowerState, until: number): Promise<PowerState | "unknown"> {
    let last: PowerState | "unknown" = "unknown";
    for (let i = 0; i < 10_000; i++) {
      last = await this.readPowerOnce();
      if (last === want || this.clock.now() >= until) return last;
      await this.clock.sleep(Math.max(1, Math.min(this.pollMs, until - this.clock.now())));
    }
    return last;
  }

  /**
   * Graceful first, forced after half the retries; a 409 "already in that state" counts only after a
   * read confirms it (peers.md (b).3); a target state that never shows is an error, not a silent retry.
   * With the caller's bound (target.timeoutMs) the whole escalation fits in it (issue 14 item 5): the graceful request
   * gets half of what is left when it goes out, the forced one the rest, and a little is kept so the answer reaches the caller before its own bound;
   * running out says what is true (the state read back, what was sent when, what was not).
   */
  private async setPower(action: PowerAction): Promise<PowerSetReport> {
    const began = this.clock.now();
    const budget = this.target.timeoutMs;
    const deadline = budget ? began + budget - Math.min(3_000, budget / 10) : Number.POSITIVE_INFINITY;
    // Set when the first request goes out: half of what is left of the bound then.
    let gracefulUntil = Number.POSITIVE_INFINITY;
    const sys = await this.system();
    const current = powerStateOf(sys.PowerState) === "unknown" ? await this.readPower() : powerStateOf(sys.PowerState);
    // Restarting a host that is off means bringing it up (what the reset progression wants).
    if ((action === "reset" || action === "cycle" || action === "graceful-restart") && current === "off") return this.setPower("on");
    const allowable = await this.allowableResetTypes(sys);
    const plan = planFor(action, allowable);
    if (action === "cycle" && !plan.forced) {
      const off = await this.setPower("off");
      const on = await this.setPower("on");
      return { sent: [...off.sent, ...on.sent], ...(on.readBack ? { readBack: on.readBack } : {}) };
    }
    if (!plan.graceful && !plan.forced)
      throw new BmcError("unsupported", `the BMC allows none of the reset types for '${action}' (${allowable.join(", ")})`, this.target.host);
    const sent: PowerSetReport["sent"] = [];
    let readBack: PowerState | "unknown" = current ?? "unknown";
    for (let attempt = 0; attempt < this.retries; attempt++) {
      if (sent.length > 0 && this.clock.now() >= deadline) break;
      if (budget && sent.length === 0) gracefulUntil = this.clock.now() + (deadline - this.clock.now()) / 2;
      const escalate = this.clock.now() >= gracefulUntil;
      const type = (escalate ? (plan.forced ?? plan.graceful) : resetTypeForAttempt(plan, attempt, this.retries))!;
      sent.push({ request: type, atMs: this.clock.now() - began });
      const r = await this.postReset(sys, type);
      if (!plan.want) {
        if (r === "ok") return { sent };
        continue;
      }
      if (r === "conflict") {
        readBack = await this.readPower();
        if (readBack === plan.want) return { sent, readBack };
        continue;
      }
      // A graceful request that a forced one may follow waits only for its share of the bound.
      const graceful = type !== plan.forced && plan.forced !== undefined;
      const until = Math.min(this.clock.now() + this.verifyMs, graceful ? gracefulUntil : deadline, deadline);
      readBack = await this.settles(plan.want, until);
      if (readBack === plan.want) return { sent, readBack };
    }
    const secs = Math.round((this.clock.now() - began) / 100) / 10;
    const what = sent.map((x) => `${x.request} sent at ${Math.round(x.atMs / 100) / 10} s`).join(", ");
    const forcedNotSent = plan.forced && plan.forced !== plan.graceful && !sent.some((x) => x.request === plan.forced) ? `; ${plan.forced} not sent` : "";
    throw new BmcError(
      "timeout",
      `power ${action}: ${plan.want ? `still ${readBack}` : "not done"} after ${secs} s (${what}${forcedNotSent})`,
      this.target.host,
    );
  }

  readonly power = {
    status: (): Promise<PowerState> => this.readPower(),
    set: (action: PowerAction): Promise<PowerSetReport> => this.setPower(action),
  };

  /**
   * Boot override with the vendor quirks of peers.md 5.11: echo BootSourceOverrideMode when the BMC has it
   * (Supermicro refuses a PATCH without it), drop it when it is read-only (HPE) or absent (X10), and use the
   * @Redfish.Settings object when the system itself refuses PATCH (AMI's FutureState URI).
   */
  private async setBoot(device: BootDevice, options: { persistent?: boolean; mode?: BootMode } = {}): Promise<void> {
    const paths = await this.resolvePaths();
    const sys = await this.client.get(paths.system);
    const boot = (sys.Boot ?? {}) as Json;
    const target = BOOT_TARGETS[device];
    const allowed = boot["BootSourceOverrideTarget@Redfish.AllowableValues"];
    if (Array.isArray(allowed) && !allowed.includes(target)) {
      throw new BmcError("unsupported", `boot target ${target} is not offered (${allowed.join(", ")})`, this.target.host);
    }
    const patch: Json = { BootSourceOverrideEnabled: options.persistent ? "Continuous" : "Once", BootSourceOverrideTarget: target };
    if ("BootSourceOverrideMode" in boot)
      patch.BootSourceOverrideMode = options.mode ? (options.mode === "uefi" ? "UEFI" : "Legacy") : boot.BootSourceOverrideMode;
    const settings = link((sys["@Redfish.Settings"] as Json | undefined)?.SettingsObject);
    let where = paths.system;
    let res = await this.client.call("PATCH", where, { body: { Boot: patch }, accept: [400, 405] });
    if (res.status === 405 && settings) {
      where = settings;
      res = await this.client.call("PATCH", where, { body: { Boot: patch }, accept: [400] });
    }
    if (res.status === 400 && "BootSourceOverrideMode" in patch && /PropertyNotWritable|PropertyUnknown/.test(messageIdOf(res.body))) {
      delete patch.BootSourceOverrideMode;
      res = await this.client.call("PATCH", where, { body: { Boot: patch }, accept: [400] });
    }
    if (res.status >= 300) throw new BmcError("protocol", `boot override refused: HTTP ${res.status} ${messageIdOf(res.body)}`, this.target.host);
  }

  readonly bootDevice = {
    set: (device: BootDevice, options?: { persistent?: boolean; mode?: BootMode }) => this.setBoot(device, options),
  };

  readonly info = {
    get: async (): Promise<BmcInfo> => {
      const paths = await this.resolvePaths();
      const sys = await this.client.get(paths.system);
      // A Manager that answers 404 (or is not linked) costs the BMC version only: the System still says who it is.
      let mgr: Json = {};
      let managerMissing = !paths.manager;
      if (paths.manager) {
        try {
          mgr = await this.client.get(paths.manager);
        } catch (err) {
          if ((err as BmcError).code !== "unsupported") throw err;
          managerMissing = true;
        }
      }
      const str = (v: unknown) => (typeof v === "string" ? v : "");
      const extra: Record<string, string> = {};
      for (const [k, v] of [
        ["partNumber", sys.PartNumber],
        ["biosVersion", sys.BiosVersion],
        ["bmcVersion", mgr.FirmwareVersion],
        ["systemPath", paths.system],
        ["authMethod", this.client.authMethod],
      ] as const)
        if (typeof v === "string" && v) extra[k] = v;
      if (managerMissing) extra.manager = paths.manager ? `missing (${paths.manager} answers 404)` : "missing (the system links no Manager)";
      const ps = powerStateOf(sys.PowerState);
      const power = ps === "unknown" ? undefined : ps;
      return {
        manufacturer: str(sys.Manufacturer),
        model: str(sys.Model),
        serial: str(sys.SerialNumber),
        // The BMC's firmware, as the reference's BmcVersion; the BIOS version is in extra.
        firmwareVersion: str(mgr.FirmwareVersion) || str(sys.BiosVersion),
        ...(power ? { powerState: power } : {}),
        extra,
      };
    },
  };

  /**
   * Thermal, Power and the Sensors collection are read independently: one that fails (a 500 from an iDRAC's
   * Thermal, a 404) costs only its own readings. The failed resources are named in `failed` of the result and
   * logged; only when every resource fails is the read an error (the first failure).
   */
  private async readSensors(): Promise<SensorReadings> {
    const { chassis } = await this.resolvePaths();
    if (!chassis) throw new BmcError("unsupported", "the system links no chassis", this.target.host);
    const doc = await this.client.get(chassis);
    const failed: SensorReadFailure[] = [];
    let answered = 0;
    const attempt = async <T>(resource: string, fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        const v = await fn();
        answered++;
        return v;
      } catch (err) {
        const e = err as BmcError;
        if (e.code === "auth" || e.code === "permission") throw err;
        failed.push({ resource, code: e.code ?? "protocol", message: e.message });
        return undefined;
      }
    };
    const out: SensorReading[] = [];
    const thermal = link(doc.Thermal);
    const power = link(doc.Power);
    if (thermal) out.push(...((await attempt(thermal, async () => parseThermal(await this.client.get(thermal)))) ?? []));
    if (power) out.push(...((await attempt(power, async () => parsePower(await this.client.get(power)))) ?? []));
    const sensorsPath = link(doc.Sensors);
    if (sensorsPath) {
      const coll = await attempt(sensorsPath, () => this.client.get(sensorsPath));
      const members = Array.isArray(coll?.Members) ? coll.Members.map(link).filter((x): x is string => !!x) : [];
      const known = new Set(out.map((r) => r.name));
      for (const m of members.slice(0, 512)) {
        const r = await attempt(m, async () => parseSensor(await this.client.get(m)));
        if (r && !known.has(r.name)) out.push(r);
      }
    }
    if (answered === 0 && failed.length > 0) {
      const first = failed[0]!;
      throw new BmcError(first.code, `no sensor resource answered: ${failed.map((f) => `${f.resource} (${f.message})`).join("; ")}`, this.target.host);
    }
    if (failed.length > 0)
      this.logger?.warn({ host: this.target.host, failed: failed.map((f) => f.resource) }, "some Redfish sensor resources failed; their readings are missing");
    const merged: SensorReadings = mergeBySeverity(out);
    return failed.length ? Object.assign(merged, { failed }) : merged;
  }

  readonly sensors = {
    read: (): Promise<SensorReadings> => this.readSensors(),
  };

  /** The CD/DVD virtual media member, under the Manager or (iDRAC >= 6, sushy >= 1.1) the System. */
  private async mediaPath(): Promise<string> {
    const paths = await this.resolvePaths();
    const candidates: string[] = [];
    const sys = await this.client.get(paths.system);
    const onSystem = link(sys.VirtualMedia);
    if (onSystem) candidates.push(onSystem);
    if (paths.manager) {
      const mgr = await this.client.get(paths.manager);
      const onManager = link(mgr.VirtualMedia);
      if (onManager) candidates.push(onManager);
    }
    for (const coll of candidates) {
      const doc = await this.client.get(coll);
      const members = Array.isArray(doc.Members) ? doc.Members.map(link).filter((x): x is string => !!x) : [];
      for (const m of members) {
        const vm = await this.client.get(m);
        const types = Array.isArray(vm.MediaTypes) ? vm.MediaTypes : [];
        if (types.includes("CD") || types.includes("DVD")) return m;
      }
    }
    throw new BmcError("unsupported", "the BMC has no CD/DVD virtual media", this.target.host);
  }

  private async mediaStatus(path: string): Promise<VirtualMediaStatus & { doc: Json }> {
    const doc = await this.client.get(path);
    const image = typeof doc.Image === "string" && doc.Image ? doc.Image : undefined;
    return { inserted: doc.Inserted === true, ...(image ? { image } : {}), doc };
  }

  private async waitMedia(path: string, done: (s: VirtualMediaStatus) => boolean, what: string): Promise<void> {
    const deadline = this.clock.now() + opt(this.target, "mediaTimeoutMs", 60_000);
    for (let i = 0; i < 10_000; i++) {
      if (done(await this.mediaStatus(path))) return;
      if (this.clock.now() >= deadline) break;
      await this.clock.sleep(this.pollMs);
    }
    throw new BmcError("timeout", `virtual media ${what} did not complete`, this.target.host);
  }

  /**
   * VirtualMedia.InsertMedia with the documented quirks (sushy and Ironic meet the same): a BMC that refuses
   * `Inserted`/`WriteProtected` with 400 is asked again with only `Image`; one that asks for
   * `TransferProtocolType` gets it, derived from the image URL's scheme. At most three POSTs.
   */
  private async insertMedia(action: string, imageUrl: string): Promise<void> {
    const body: Json = { Image: imageUrl, Inserted: true, WriteProtected: true };
    const tried: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await this.client.call("POST", action, { body, accept: [400] });
      if (res.status < 300) return;
      const said = JSON.stringify(res.body);
      tried.push(`${Object.keys(body).join("+")}: ${messageIdOf(res.body) || "HTTP 400"}`);
      const wantsProtocol = /TransferProtocolType/.test(said) && !("TransferProtocolType" in body);
      if (wantsProtocol) {
        body.TransferProtocolType = transferProtocolOf(imageUrl);
        if (!body.TransferProtocolType) break;
      } else if ("Inserted" in body || "WriteProtected" in body) {
        delete body.Inserted;
        delete body.WriteProtected;
      } else if (!("TransferProtocolType" in body) && transferProtocolOf(imageUrl)) {
        body.TransferProtocolType = transferProtocolOf(imageUrl);
      } else break;
    }
    throw new BmcError("protocol", `InsertMedia refused (${tried.join("; ")})`, this.target.host);
  }

  readonly virtualMedia = {
    status: async (): Promise<VirtualMediaStatus> => {
      const { doc: _doc, ...s } = await this.mediaStatus(await this.mediaPath());
      return s;
    },
    insert: async (imageUrl: string): Promise<void> => {
      const path = await this.mediaPath();
      const st = await this.mediaStatus(path);
      if (st.inserted && st.image === imageUrl) return;
      if (st.inserted) throw new BmcError("conflict", `virtual media already holds ${st.image ?? "an image"}; eject it first`, this.target.host);
      const action = link({ "@odata.id": ((st.doc.Actions as Json | undefined)?.["#VirtualMedia.InsertMedia"] as Json | undefined)?.target });
      if (action) await this.insertMedia(action, imageUrl);
      else await this.client.call("PATCH", path, { body: { Image: imageUrl, Inserted: true } });
      await this.waitMedia(path, (s) => s.inserted && s.image === imageUrl, "insert");
    },
    eject: async (): Promise<void> => {
      const path = await this.mediaPath();
      const st = await this.mediaStatus(path);
      if (!st.inserted) return;
      const action = link({ "@odata.id": ((st.doc.Actions as Json | undefined)?.["#VirtualMedia.EjectMedia"] as Json | undefined)?.target });
      if (action) await this.client.call("POST", action, { body: {} });
      else await this.client.call("PATCH", path, { body: { Image: null, Inserted: false } });
      await this.waitMedia(path, (s) => !s.inserted, "eject");
    },
  };

  close(): Promise<void> {
    this.events.closeAll();
    return this.client.close();
  }
}
