/**
 * The VIM-facing HTTP API of guestAgent (reference A.12), as a pure function from a request to a
 * response; `api-server.ts` puts it on a socket. The operations it calls are guestAgent's.
 */

export interface ApiRequest {
  method: string;
  url: string;
  userAgent: string | undefined;
  host: string | undefined;
  /** The address the request arrived on; a Host header naming it is as good as "localhost". */
  localAddress?: string | undefined;
  /** undefined when the request carried no body at all. */
  body: string | undefined;
}

export interface ApiResponse {
  status: number;
  body?: Record<string, unknown>;
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; status: number; reason: FailReason };
export type FailReason = "command parse error" | "no buffer" | "entity not found" | "invalid data" | "bad state" | "unsupported http command";

/** What the API needs from guestAgent. Each returns the body of a 200, or a failure. */
export interface AgentOps {
  hostKnown(hostUuid: string): boolean;
  /** Ask mtcAgent for the inventory (MONITOR_READY), after the VIM named an unknown host. */
  requestInventory(): void;
  setHostReporting(hostUuid: string, hostname: string, enabled: boolean): ApiResult<void>;
  hostState(hostUuid: string): ApiResult<Record<string, unknown>>;
  addInstance(uuid: string, hostname: string, reporting: boolean): ApiResult<void>;
  modInstance(uuid: string, hostname: string | undefined, reporting: boolean): ApiResult<Record<string, unknown>>;
  instanceState(uuid: string): ApiResult<Record<string, unknown>>;
  delInstance(uuid: string): void;
  action(uuid: string, kind: "vote" | "notify", event: string): ApiResult<{ timeout: number; hostname: string }>;
}

const PASS = { status: "pass" };
const fail = (status: number, reason: FailReason): ApiResponse => ({ status, body: { status: "fail", reason } });
const UUID = /^[0-9a-fA-F-]{36}$/;

function hostHeaderOk(host: string, localAddress: string | undefined): boolean {
  if (/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host)) return true;
  const name = host.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  return localAddress !== undefined && name === localAddress.replace(/^::ffff:/, "");
}

type Parsed = { level: "hosts" | "instances"; uuid: string; command?: "enable" | "disable" | "vote" | "notify" };

/** `/v1/hosts/<uuid>[/cmd]` or `/v1/instances/<uuid>[/cmd]`, found by substring as the original does. */
export function parseApiUrl(url: string): Parsed | undefined {
  const path = url.split("?")[0] ?? "";
  for (const level of ["hosts", "instances"] as const) {
    const marker = `/v1/${level}/`;
    const at = path.indexOf(marker);
    if (at === -1) continue;
    const rest = path.slice(at + marker.length);
    const uuid = rest.slice(0, 36);
    if (!UUID.test(uuid)) return undefined;
    const tail = rest.slice(36);
    if (tail === "" || tail === "/") return { level, uuid: uuid.toLowerCase() };
    const command = tail.replace(/^\//, "").replace(/\/$/, "");
    if (command === "enable" || command === "disable" || command === "vote" || command === "notify") return { level, uuid: uuid.toLowerCase(), command };
    return undefined;
  }
  return undefined;
}

function readBody(req: ApiRequest): { ok: true; value: Record<string, unknown> } | { ok: false; response: ApiResponse } {
  if (req.body === undefined) return { ok: false, response: fail(411, "no buffer") };
  if (req.body.trim() === "") return { ok: false, response: fail(400, "no buffer") };
  try {
    const v = JSON.parse(req.body) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) return { ok: true, value: v as Record<string, unknown> };
  } catch {}
  return { ok: false, response: fail(400, "invalid data") };
}

function heartbeatState(body: Record<string, unknown>): boolean | undefined {
  if (!Array.isArray(body.services)) return undefined;
  const hb = (body.services as Array<Record<string, unknown>>).find((s) => s && typeof s === "object" && s.service === "heartbeat");
  if (!hb) return undefined;
  return hb.state === "enabled";
}

const result = <T>(r: ApiResult<T>, ok: (v: T) => ApiResponse): ApiResponse => (r.ok ? ok(r.value) : fail(r.status, r.reason));

/** Route one request. */
export function handleApiRequest(req: ApiRequest, ops: AgentOps): ApiResponse {
  // Decided (A.16): a missing User-Agent is accepted (curl, scripts) but a wrong one is refused, as the
  // original; unlike it, a Host header naming anything but this loopback service is refused too, which
  // stops a web page in a browser on this host from driving the API (DNS rebinding).
  if (req.userAgent !== undefined && req.userAgent !== "vim/1.0") return fail(403, "command parse error");
  if (req.host !== undefined && !hostHeaderOk(req.host, req.localAddress)) return fail(403, "command parse error");
  const parsed = parseApiUrl(req.url);
  if (!parsed) return fail(403, "command parse error");
  const { level, uuid, command } = parsed;
  const method = req.method.toUpperCase();

  if (level === "hosts") {
    switch (method) {
      case "POST":
        if (command) return fail(400, "unsupported http command");
        if (ops.hostKnown(uuid)) return { status: 200, body: PASS };
        ops.requestInventory();
        return fail(404, "entity not found");
      case "PUT": {
        if (command !== "enable" && command !== "disable") return fail(400, "unsupported http command");
        const body = readBody(req);
        if (!body.ok) return body.response;
        const hostname = body.value.hostname;
        if (typeof hostname !== "string" || hostname === "") return fail(400, "invalid data");
        if (!ops.hostKnown(uuid)) {
          ops.requestInventory();
          return fail(404, "entity not found");
        }
        return result(ops.setHostReporting(uuid, hostname, command === "enable"), () => ({ status: 200, body: PASS }));
      }
      case "GET":
        return result(ops.hostState(uuid), (v) => ({ status: 200, body: v }));
      case "DELETE":
        return { status: 204 };
      default:
        return fail(400, "unsupported http command");
    }
  }

  if (command === "vote" || command === "notify") {
    if (method !== "POST") return fail(400, "unsupported http command");
    const body = readBody(req);
    if (!body.ok) return body.response;
    const event = body.value.action;
    if (typeof event !== "string" || event === "" || event.length > 32) return fail(400, "invalid data");
    return result(ops.action(uuid, command, event), (v) => ({ status: 200, body: { uuid, hostname: v.hostname, action: event, timeout: String(v.timeout) } }));
  }
  if (command) return fail(400, "unsupported http command");
  switch (method) {
    case "POST": {
      const body = readBody(req);
      if (!body.ok) return body.response;
      const hostname = body.value.hostname;
      if (typeof hostname !== "string" || hostname === "") return fail(400, "invalid data");
      return result(ops.addInstance(uuid, hostname, heartbeatState(body.value) ?? false), () => ({ status: 200, body: PASS }));
    }
    case "PATCH": {
      const body = readBody(req);
      if (!body.ok) return body.response;
      const state = heartbeatState(body.value);
      if (state === undefined) return fail(400, "invalid data");
      const hostname = typeof body.value.hostname === "string" ? body.value.hostname : undefined;
      return result(ops.modInstance(uuid, hostname, state), (v) => ({ status: 200, body: v }));
    }
    case "GET":
      return result(ops.instanceState(uuid), (v) => ({ status: 200, body: v }));
    case "DELETE":
      ops.delInstance(uuid);
      return { status: 204 };
    default:
      return fail(400, "unsupported http command");
  }
}
