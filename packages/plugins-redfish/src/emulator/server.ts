import { randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { EmulatedEventService } from "./events.js";
import { EmulatedMachine } from "./machine.js";
import { type EmulatorFaults, type EmulatorProfile, type EmulatorProfileInput, mergeProfile } from "./profile.js";
import { RedfishTree } from "./resources.js";

interface Session {
  id: string;
  token: string;
  user: string;
  lastUsed: number;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface EmulatorListenOptions {
  port?: number;
  host?: string;
  /** PEM certificate and key: serve https instead of http. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

const MAX_BODY = 64 * 1024;

function redfishError(status: number, messageId: string, message: string): Reply {
  return {
    status,
    body: { error: { code: `Base.1.8.${messageId}`, message, "@Message.ExtendedInfo": [{ MessageId: `Base.1.8.${messageId}`, Message: message }] } },
  };
}

const r0 = (t: RedfishTree) => t.root;

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A Redfish BMC on one socket: service root, Systems, Chassis (Thermal, Power, Sensors), Managers with
 * VirtualMedia, SessionService, AccountService; state that changes; and fault knobs (profile.ts).
 * The `/emulator/*` paths (unauthenticated, loopback use) let tests and operators turn the knobs at run time.
 */
export class RedfishEmulator {
  readonly profile: EmulatorProfile;
  readonly machine: EmulatedMachine;
  readonly tree: RedfishTree;
  /** EventService: SSE and push subscriptions; `events.drop()` is the subscription-loss fault. */
  readonly events: EmulatedEventService;
  private readonly sessions = new Map<string, Session>();
  private nextSessionId = 1;
  private server: http.Server | undefined;
  private scheme: "http" | "https" = "http";
  /** Requests served, by method and path, for tests that count round trips. */
  readonly requestLog: Array<{ method: string; path: string; status: number }> = [];

  constructor(profile: EmulatorProfileInput = {}) {
    this.profile = mergeProfile(profile);
    this.machine = new EmulatedMachine(this.profile);
    this.tree = new RedfishTree(this.profile, this.machine);
    this.events = new EmulatedEventService(this.tree.root);
    this.machine.onPower = (state) =>
      this.events.emit({
        EventType: "ResourceUpdated",
        MessageId: "ResourceEvent.1.0.ResourceChanged",
        Message: `The power state of the system changed to ${state}.`,
        MessageArgs: [],
        Severity: "OK",
        OriginOfCondition: { "@odata.id": this.tree.systemPath },
      });
  }

  /** A sensor's health changed: an Alert naming the sensor (threshold exceeded or cleared). */
  private sensorEvent(name: string, health: string, reading: number | null): void {
    const id = name.replace(/[^A-Za-z0-9]/g, "");
    const bad = health === "Warning" || health === "Critical";
    this.events.emit({
      EventType: "Alert",
      MessageId: bad ? "ResourceEvent.1.0.ResourceErrorThresholdExceeded" : "ResourceEvent.1.0.ResourceErrorThresholdCleared",
      Message: `Sensor ${name} is ${health} (reading ${reading ?? "none"}).`,
      MessageArgs: [name, String(reading ?? "")],
      Severity: health === "Critical" ? "Critical" : health === "Warning" ? "Warning" : "OK",
      OriginOfCondition: { "@odata.id": `${this.tree.chassisPath}/Sensors/${id}` },
    });
  }

  get faults(): EmulatorFaults {
    return this.profile.faults;
  }

  setFaults(f: Partial<EmulatorFaults>): void {
    for (const [k, v] of Object.entries(f)) {
      if (!(k in this.profile.faults)) throw new Error(`unknown fault knob '${k}'`);
      const want = typeof (this.profile.faults as unknown as Record<string, unknown>)[k];
      if (typeof v !== want || v === null) throw new Error(`fault knob '${k}' must be a ${want}`);
      if (k === "failing" && Object.values(v as object).some((s) => !Number.isInteger(s) || s < 400 || s > 599))
        throw new Error("fault knob 'failing' maps path suffixes to HTTP error statuses (400..599)");
    }
    Object.assign(this.profile.faults, f);
  }

  /** Sessions that have not expired. */
  activeSessions(): number {
    this.expireSessions();
    return this.sessions.size;
  }

  /** As a BMC reset does: every session is gone. */
  flushSessions(): void {
    this.sessions.clear();
  }

  async listen(opts: EmulatorListenOptions = {}): Promise<{ port: number; url: string }> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.send(res, req, redfishError(500, "InternalError", String((err as Error)?.message ?? err)));
      });
    };
    this.scheme = opts.tls ? "https" : "http";
    this.server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : http.createServer(handler);
    this.server.keepAliveTimeout = 30_000;
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const host = addr.address.includes(":") ? `[${addr.address}]` : addr.address;
    return { port: addr.port, url: `${this.scheme}://${host}:${addr.port}` };
  }

  async close(): Promise<void> {
    this.machine.stop();
    this.events.close();
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private expireSessions(): void {
    const limit = this.profile.faults.sessionTimeoutS * 1000;
    const now = Date.now();
    for (const [token, s] of this.sessions) if (now - s.lastUsed > limit) this.sessions.delete(token);
  }

  private authenticate(req: http.IncomingMessage): boolean {
    const token = req.headers["x-auth-token"];
    if (typeof token === "string" && token.length > 0) {
      this.expireSessions();
      const s = this.sessions.get(token);
      if (!s) return false;
      s.lastUsed = Date.now();
      return true;
    }
    const auth = req.headers.authorization;
    if (typeof auth === "string" && auth.startsWith("Basic ")) {
      const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) return false;
      return safeEqual(decoded.slice(0, colon), this.profile.username) && safeEqual(decoded.slice(colon + 1), this.profile.password);
    }
    return false;
  }

  private async readBody(req: http.IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; reply: Reply }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) return { ok: false, reply: redfishError(413, "GeneralError", "request body too large") };
      chunks.push(c as Buffer);
    }
    if (size === 0) return { ok: true, value: {} };
    try {
      const value = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return { ok: false, reply: redfishError(400, "MalformedJSON", "body must be a JSON object") };
      return { ok: true, value };
    } catch {
      return { ok: false, reply: redfishError(400, "MalformedJSON", "the request body is not valid JSON") };
    }
  }

  private send(res: http.ServerResponse, req: http.IncomingMessage, r: Reply): void {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    this.requestLog.push({ method: req.method ?? "?", path, status: r.status });
    if (this.requestLog.length > 10_000) this.requestLog.splice(0, 5_000);
    const headers: Record<string, string> = { "OData-Version": "4.0", ...r.headers };
    if (r.status === 401) headers["WWW-Authenticate"] = 'Basic realm="metal-redfish-emulator"';
    if (r.body === undefined) {
      res.writeHead(r.status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(r.body);
    headers["Content-Type"] = "application/json; charset=utf-8";
    headers["Content-Length"] = String(Buffer.byteLength(text));
    res.writeHead(r.status, headers);
    res.end(text);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "GET" && url === this.events.ssePath) {
      // Server-Sent Events: the response stays open; authenticated like any other resource.
      if (!this.authenticate(req)) return this.send(res, req, redfishError(401, "NoValidSession", "authentication required"));
      this.requestLog.push({ method: "GET", path: url, status: 200 });
      this.events.openStream(res);
      return;
    }
    const latency = this.profile.faults.latencyMs;
    const body = await this.readBody(req);
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    const reply = body.ok ? this.route(req, body.value as Record<string, unknown>) : body.reply;
    this.send(res, req, reply);
  }

  private route(req: http.IncomingMessage, body: Record<string, unknown>): Reply {
    const method = req.method ?? "GET";
    let path = decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/");
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const t = this.tree;

    if (path.startsWith("/emulator")) return this.admin(method, path, body);
    // Unauthenticated per the Redfish spec: the version document, the service root, and session login.
    if (method === "GET" && path === "/redfish") return { status: 200, body: { v1: "/redfish/v1/" } };
    if (method === "GET" && path === t.root) return { status: 200, body: t.serviceRoot() };
    const sessionsPath = `${t.root}/SessionService/Sessions`;
    if (method === "POST" && path === sessionsPath && !this.profile.quirks.noSessions) return this.login(body);

    if (this.profile.faults.unauthorizedNext > 0) {
      this.profile.faults.unauthorizedNext--;
      this.flushSessions();
      return redfishError(401, "NoValidSession", "there is no valid session established with the implementation");
    }
    if (!this.authenticate(req)) return redfishError(401, "NoValidSession", "authentication required");

    if (method === "GET") {
      const failing = Object.entries(this.profile.faults.failing).find(([suffix]) => path.endsWith(`/${suffix}`));
      if (failing) return redfishError(failing[1], failing[1] === 404 ? "ResourceMissingAtURI" : "InternalError", `${path}: failing (fault knob)`);
      const doc = this.get(path);
      return doc ? { status: 200, body: doc, headers: { ETag: `W/"${this.etag(doc)}"` } } : redfishError(404, "ResourceMissingAtURI", `${path} not found`);
    }
    if (method === "DELETE" && path.startsWith(`${sessionsPath}/`) && !this.profile.quirks.noSessions) {
      const id = path.slice(sessionsPath.length + 1);
      for (const [token, s] of this.sessions)
        if (s.id === id) {
          this.sessions.delete(token);
          return { status: 204 };
        }
      return redfishError(404, "ResourceMissingAtURI", `session ${id} not found`);
    }
    if (method === "POST" && path === t.resetTarget) return this.reset(body);
    const ev = this.events;
    if (method === "POST" && path === ev.subscriptionsPath) {
      const r = ev.subscribe(body);
      if ("error" in r) return redfishError(400, r.messageId, r.error);
      const location = `${ev.subscriptionsPath}/${r.id}`;
      return { status: 201, headers: { Location: location }, body: ev.subscription(r.id) };
    }
    if (method === "DELETE" && path.startsWith(`${ev.subscriptionsPath}/`)) {
      return ev.unsubscribe(path.slice(ev.subscriptionsPath.length + 1)) ? { status: 204 } : redfishError(404, "ResourceMissingAtURI", `${path} not found`);
    }
    if (method === "POST" && path === `${ev.path}/Actions/EventService.SubmitTestEvent`) {
      const type = typeof body.EventType === "string" && ["ResourceUpdated", "Alert", "StatusChange"].includes(body.EventType) ? body.EventType : "Alert";
      ev.emit({
        EventType: type as "Alert",
        MessageId: typeof body.MessageId === "string" ? body.MessageId : "TestEvent.1.0.TestEvent",
        Message: typeof body.Message === "string" ? body.Message : "Test event",
        MessageArgs: Array.isArray(body.MessageArgs) ? body.MessageArgs.map(String) : [],
        Severity: body.Severity === "Critical" || body.Severity === "Warning" ? body.Severity : "OK",
        OriginOfCondition: { "@odata.id": typeof body.OriginOfCondition === "string" ? body.OriginOfCondition : t.systemPath },
      });
      return { status: 204 };
    }
    if (method === "PATCH" && path === `${t.systemPath}/SecureBoot`) {
      if (typeof body.SecureBootEnable !== "boolean") return redfishError(400, "PropertyValueTypeError", "SecureBootEnable must be a boolean");
      this.machine.secureBoot = body.SecureBootEnable;
      return { status: 204 };
    }
    if (method === "POST" && path === `${r0(t)}/UpdateService/Actions/UpdateService.SimpleUpdate`)
      return redfishError(400, "ActionNotSupported", "firmware updates are not emulated (UpdateService.ServiceEnabled is false)");
    if (method === "PATCH" && this.profile.quirks.ifMatchRequired) {
      const current = this.get(path);
      const ifMatch = req.headers["if-match"];
      if (current && typeof ifMatch !== "string") return redfishError(428, "PreconditionRequired", `PATCH ${path} needs If-Match with the resource's ETag`);
      if (current && ifMatch !== "*" && ifMatch !== `W/"${this.etag(current)}"`) return redfishError(412, "PreconditionFailed", "the ETag does not match");
    }
    if (method === "PATCH" && path === t.systemPath) return this.patchSystem(body);
    if (method === "PATCH" && path === t.cdPath) return this.patchMedia(body);
    if (method === "PATCH" && path === t.bootSettingsPath && this.profile.quirks.bootSettingsObject) {
      const boot = body.Boot;
      if (typeof boot !== "object" || boot === null) return redfishError(400, "PropertyMissing", "Boot is required");
      this.machine.pendingBoot = { ...(this.machine.pendingBoot ?? {}), ...this.bootFields(boot as Record<string, unknown>) };
      return { status: 204 };
    }
    const mediaActions = !this.profile.quirks.virtualMediaPatchOnly;
    if (mediaActions && method === "POST" && path === `${t.cdPath}/Actions/VirtualMedia.InsertMedia`) return this.insertMedia(body);
    if (mediaActions && method === "POST" && path === `${t.cdPath}/Actions/VirtualMedia.EjectMedia`) {
      if (!this.machine.media.inserted) return redfishError(409, "ActionNotSupported", "no media is inserted");
      this.machine.setMedia(false, null);
      return { status: 204 };
    }
    if (this.get(path)) return redfishError(405, "OperationNotAllowed", `${method} is not allowed on ${path}`);
    return redfishError(404, "ResourceMissingAtURI", `${path} not found`);
  }

  private etag(doc: object): string {
    let h = 0;
    for (const ch of JSON.stringify(doc)) h = (h * 31 + ch.charCodeAt(0)) | 0;
    return (h >>> 0).toString(16);
  }

  private get(path: string): object | undefined {
    const t = this.tree;
    const r = t.root;
    const sensorPrefix = `${t.chassisPath}/Sensors/`;
    switch (path) {
      case `${r}/Systems`:
        return t.collection(path, "ComputerSystem", [t.systemPath]);
      case t.systemPath:
        return t.system();
      case t.resetActionInfo:
        return this.profile.quirks.resetActionInfo ? t.actionInfo() : undefined;
      case t.bootSettingsPath:
        return this.profile.quirks.bootSettingsObject ? t.bootSettings() : undefined;
      case `${r}/Chassis`:
        return t.collection(path, "Chassis", [t.chassisPath]);
      case t.chassisPath:
        return t.chassis();
      case `${t.chassisPath}/Thermal`:
        return t.thermal();
      case `${t.chassisPath}/Power`:
        return t.power();
      case `${t.chassisPath}/Sensors`:
        return t.sensorCollection();
      case `${r}/Managers`:
        return t.collection(path, "Manager", [t.managerPath]);
      case t.managerPath:
        return t.manager();
      case t.virtualMediaCollection:
        return t.collection(path, "VirtualMedia", [t.cdPath]);
      case t.cdPath:
        return t.virtualMedia();
      case `${r}/SessionService`:
        return this.profile.quirks.noSessions ? undefined : t.sessionService();
      case `${r}/SessionService/Sessions`:
        if (this.profile.quirks.noSessions) return undefined;
        this.expireSessions();
        return t.collection(
          path,
          "Session",
          [...this.sessions.values()].map((s) => `${path}/${s.id}`),
        );
      case `${r}/AccountService`:
        return t.accountService();
      case `${r}/AccountService/Accounts`:
        return t.collection(path, "ManagerAccount", [`${path}/1`]);
      case `${r}/AccountService/Accounts/1`:
        return t.account();
      case `${r}/AccountService/Roles`:
        return t.collection(
          path,
          "Role",
          Object.keys(RedfishTree.ROLES).map((id) => `${path}/${id}`),
        );
      case `${t.systemPath}/Processors`:
        return t.collection(
          path,
          "Processor",
          this.profile.processors.map((_, i) => `${path}/CPU${i + 1}`),
        );
      case `${t.systemPath}/SimpleStorage`:
        return t.collection(path, "SimpleStorage", [`${path}/1`]);
      case `${t.systemPath}/SimpleStorage/1`:
        return t.simpleStorage();
      case `${t.systemPath}/EthernetInterfaces`:
        return t.collection(
          path,
          "EthernetInterface",
          this.profile.nics.map((_, i) => `${path}/${i + 1}`),
        );
      case `${t.systemPath}/Bios`:
        return t.bios();
      case `${t.systemPath}/SecureBoot`:
        return t.secureBoot();
      case `${r}/UpdateService`:
        return t.updateService();
      case `${r}/UpdateService/FirmwareInventory`:
        return t.collection(path, "SoftwareInventory", [`${path}/BMC`, `${path}/BIOS`]);
      case `${r}/TaskService`:
        return t.taskService();
      case `${r}/TaskService/Tasks`:
        return t.collection(path, "Task", []);
      case `${r}/EventService`:
        return this.events.resource();
      case this.events.subscriptionsPath:
        return t.collection(
          path,
          "EventDestination",
          this.events.subscriptionIds().map((id) => `${path}/${id}`),
        );
    }
    if (path.startsWith(`${r}/AccountService/Roles/`)) return t.role(path.slice(`${r}/AccountService/Roles/`.length));
    if (path.startsWith(`${t.systemPath}/Processors/CPU`)) return t.processor(Number(path.slice(`${t.systemPath}/Processors/CPU`.length)) - 1);
    if (path.startsWith(`${t.systemPath}/EthernetInterfaces/`))
      return t.ethernetInterface(Number(path.slice(`${t.systemPath}/EthernetInterfaces/`.length)) - 1);
    if (path.startsWith(`${r}/UpdateService/FirmwareInventory/`)) return t.firmware(path.slice(`${r}/UpdateService/FirmwareInventory/`.length));
    if (path.startsWith(`${this.events.subscriptionsPath}/`)) return this.events.subscription(path.slice(this.events.subscriptionsPath.length + 1));
    if (path.startsWith(sensorPrefix)) return t.sensor(path.slice(sensorPrefix.length));
    if (path.startsWith(`${r}/SessionService/Sessions/`)) {
      const id = path.slice(`${r}/SessionService/Sessions/`.length);
      const s = [...this.sessions.values()].find((x) => x.id === id);
      return s ? { "@odata.id": path, "@odata.type": "#Session.v1_3_0.Session", Id: s.id, Name: "User Session", UserName: s.user } : undefined;
    }
    return undefined;
  }

  private login(body: Record<string, unknown>): Reply {
    const user = typeof body.UserName === "string" ? body.UserName : "";
    const pw = typeof body.Password === "string" ? body.Password : "";
    if (!safeEqual(user, this.profile.username) || !safeEqual(pw, this.profile.password)) {
      return redfishError(401, "InsufficientPrivilege", "invalid username or password");
    }
    this.expireSessions();
    if (this.sessions.size >= this.profile.faults.sessionCap) {
      return redfishError(503, "SessionLimitExceeded", "the session establishment failed due to the number of simultaneous sessions exceeding the limit");
    }
    const id = String(this.nextSessionId++);
    const token = randomBytes(16).toString("hex");
    this.sessions.set(token, { id, token, user, lastUsed: Date.now() });
    const location = `${this.tree.root}/SessionService/Sessions/${id}`;
    return {
      status: 201,
      headers: { "X-Auth-Token": token, Location: location },
      body: { "@odata.id": location, "@odata.type": "#Session.v1_3_0.Session", Id: id, Name: "User Session", UserName: user },
    };
  }

  private reset(body: Record<string, unknown>): Reply {
    const type = body.ResetType;
    if (typeof type !== "string") return redfishError(400, "ActionParameterMissing", "ResetType is required");
    if (!this.profile.resetTypes.includes(type)) return redfishError(400, "ActionParameterValueNotInList", `ResetType ${type} is not supported`);
    if (this.machine.transitioning) return redfishError(503, "ServiceTemporarilyUnavailable", "a power transition is in progress; retry later");
    const result = this.machine.reset(type);
    if (result === "same-state" && this.profile.faults.conflictOnSameState) {
      return redfishError(409, "ResourceInUse", `the system is already ${this.machine.power}`);
    }
    return { status: 204 };
  }

  private bootFields(b: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (b.BootSourceOverrideEnabled !== undefined) out.enabled = b.BootSourceOverrideEnabled;
    if (b.BootSourceOverrideTarget !== undefined) out.target = b.BootSourceOverrideTarget;
    if (b.BootSourceOverrideMode !== undefined) out.mode = b.BootSourceOverrideMode;
    return out;
  }

  private patchSystem(body: Record<string, unknown>): Reply {
    const q = this.profile.quirks;
    if (q.bootSettingsObject) return redfishError(405, "OperationNotAllowed", "boot settings are applied through the settings object");
    const boot = body.Boot;
    if (typeof boot !== "object" || boot === null) return redfishError(400, "PropertyMissing", "only Boot can be changed");
    const b = boot as Record<string, unknown>;
    if (b.BootSourceOverrideMode !== undefined) {
      if (q.noBootMode) return redfishError(400, "PropertyUnknown", "BootSourceOverrideMode is not a property of this system");
      if (q.bootModeReadOnly) return redfishError(400, "PropertyNotWritable", "BootSourceOverrideMode is read-only");
      if (b.BootSourceOverrideMode !== "UEFI" && b.BootSourceOverrideMode !== "Legacy")
        return redfishError(400, "PropertyValueNotInList", "BootSourceOverrideMode");
    } else if (q.bootModeRequired && b.BootSourceOverrideEnabled !== "Disabled") {
      return redfishError(400, "PropertyMissing", "BootSourceOverrideMode must be supplied with BootSourceOverrideTarget");
    }
    if (b.BootSourceOverrideEnabled !== undefined && !["Once", "Continuous", "Disabled"].includes(String(b.BootSourceOverrideEnabled))) {
      return redfishError(400, "PropertyValueNotInList", "BootSourceOverrideEnabled");
    }
    if (b.BootSourceOverrideTarget !== undefined && !this.profile.bootTargets.includes(String(b.BootSourceOverrideTarget))) {
      return redfishError(400, "PropertyValueNotInList", "BootSourceOverrideTarget");
    }
    Object.assign(this.machine.boot, this.bootFields(b));
    return { status: 204 };
  }

  /** PATCH of the VirtualMedia resource (BMCs without the actions): Image and Inserted together. */
  private patchMedia(body: Record<string, unknown>): Reply {
    if (body.Inserted === false || body.Image === null) {
      this.machine.setMedia(false, null);
      return { status: 204 };
    }
    if (body.Inserted !== true) return redfishError(400, "PropertyMissing", "Inserted is required");
    return this.insertMedia({ Image: body.Image });
  }

  private insertMedia(body: Record<string, unknown>): Reply {
    const q = this.profile.quirks;
    if (q.insertMediaImageOnly) {
      const extra = ["Inserted", "WriteProtected"].filter((k) => k in body);
      if (extra.length) return redfishError(400, "ActionParameterUnknown", `InsertMedia does not take ${extra.join(", ")}`);
    }
    const protocols = ["CIFS", "FTP", "SFTP", "HTTP", "HTTPS", "NFS", "SCP", "TFTP", "OEM"];
    const tpt = body.TransferProtocolType;
    if (q.transferProtocolRequired && tpt === undefined)
      return redfishError(400, "ActionParameterMissing", "InsertMedia requires the parameter TransferProtocolType");
    if (tpt !== undefined && (typeof tpt !== "string" || !protocols.includes(tpt)))
      return redfishError(400, "ActionParameterValueNotInList", "TransferProtocolType is not a schema value");
    const image = body.Image;
    if (typeof image !== "string" || !/^(https?|nfs|cifs):\/\//.test(image)) return redfishError(400, "PropertyValueFormatError", "Image must be a URL");
    if (this.machine.media.inserted) return redfishError(409, "ResourceInUse", "media is already inserted; eject it first");
    this.machine.setMedia(true, image, typeof tpt === "string" ? tpt : null);
    return { status: 204 };
  }

  private admin(method: string, path: string, body: Record<string, unknown>): Reply {
    if (path === "/emulator/faults") {
      if (method === "PATCH") {
        try {
          this.setFaults(body as Partial<EmulatorFaults>);
        } catch (err) {
          return redfishError(400, "PropertyValueTypeError", (err as Error).message);
        }
      }
      return { status: 200, body: this.profile.faults };
    }
    if (path === "/emulator/state" && method === "GET") {
      return {
        status: 200,
        body: { power: this.machine.power, boot: this.machine.boot, media: this.machine.media, resets: this.machine.resets, sessions: this.activeSessions() },
      };
    }
    const sensorPrefix = "/emulator/sensors/";
    if (path.startsWith(sensorPrefix) && method === "PATCH") {
      const s = this.machine.sensors.find((x) => x.name === path.slice(sensorPrefix.length));
      if (!s) return redfishError(404, "ResourceMissingAtURI", "no such sensor");
      const before = s.health;
      if (typeof body.reading === "number" || body.reading === null) s.reading = body.reading as number | null;
      if (typeof body.health === "string" && ["OK", "Warning", "Critical", "Absent"].includes(body.health)) s.health = body.health as typeof s.health;
      if (s.health !== before) this.sensorEvent(s.name, s.health, s.reading);
      return { status: 200, body: s };
    }
    if (path === "/emulator/events/drop" && method === "POST") {
      // The fault a BMC reset plays on eventing: subscriptions and streams vanish without notice.
      this.events.drop();
      return { status: 204 };
    }
    return redfishError(404, "ResourceMissingAtURI", `${path} not found`);
  }
}
