import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { MtcAgent } from "../agent/mtc-agent.js";
import type { Secret } from "../plugin-api/secret.js";
import type { Logger } from "../plugin-api/services.js";

/**
 * The REST API (the inbound role sysinv plays in the original, reference §1.3): hosts CRUD and admin actions,
 * alarms. Loopback by default. Reads are open; every mutation needs `Authorization: Bearer <token>` with the
 * token from `api.tokenFile`; without a configured token mutations are refused. Errors are JSON
 * `{"status":"fail","reason":...}` with a matching HTTP status.
 */
const MAX_BODY = 64 * 1024;

/** The HA side the API needs (issue 12): whether this agent acts, where the active is, `GET /v1/ha`. */
export interface ApiHa {
  readonly active: boolean;
  readonly activeApi: { hostname: string; api?: string } | undefined;
  status(): Promise<unknown>;
  resign(reason: string): boolean;
}

export interface ApiServerOptions {
  agent: MtcAgent;
  /** With the controller pair: a standby answers reads from its warm copy and mutations with 503 and the active's address. */
  ha?: ApiHa;
  log: Logger;
  token?: Secret;
  address: string;
  port: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ApiServer {
  private server: Server | undefined;

  constructor(private readonly o: ApiServerOptions) {}

  async start(): Promise<{ address: string; port: number }> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const e = err instanceof HttpError ? err : new HttpError(500, "internal error");
        if (!(err instanceof HttpError)) this.o.log.error({ err: (err as Error).message, url: req.url }, "api handler failed");
        send(res, e.status, { status: "fail", reason: e.message });
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.port, this.o.address, () => resolve());
    });
    const a = server.address() as AddressInfo;
    return { address: a.address, port: a.port };
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const parts = url.pathname.split("/").filter(Boolean);
    const method = req.method ?? "GET";
    if (parts[0] !== "v1") throw new HttpError(404, `no such resource: ${url.pathname}`);
    const agent = this.o.agent;
    const resource = parts[1];
    const name = parts[2] ? decodeURIComponent(parts[2]) : undefined;
    if (parts.length > 3) throw new HttpError(404, `no such resource: ${url.pathname}`);

    if (resource === "alarms" && !name && method === "GET") {
      send(res, 200, { status: "pass", alarms: agent.alarms.active() });
      return;
    }
    if (resource === "ha" && !name && method === "GET") {
      if (!this.o.ha) throw new HttpError(404, "this agent runs without the controller pair (store.kind is file)");
      send(res, 200, { status: "pass", ha: await this.o.ha.status() });
      return;
    }
    if (resource !== "hosts") throw new HttpError(404, `no such resource: ${url.pathname}`);
    if (method === "GET") {
      if (!name) {
        send(res, 200, { status: "pass", hosts: agent.hosts() });
        return;
      }
      const h = agent.host(name);
      if (!h) throw new HttpError(404, `no host named '${name}'`);
      send(res, 200, { status: "pass", host: h });
      return;
    }

    this.authorize(req);
    const ha = this.o.ha;
    if (ha && !ha.active) {
      const a = ha.activeApi;
      send(res, 503, {
        status: "fail",
        reason: a
          ? `this controller is standby; ${a.hostname} is active${a.api ? ` at ${a.api}` : ""}`
          : "no active controller right now (election in progress or no etcd quorum)",
        ...(a ? { active: a.hostname, ...(a.api ? { activeApi: a.api } : {}) } : {}),
      });
      return;
    }
    if (method === "POST" && !name) {
      const body = await readJson(req);
      const r = agent.addHost(body as never);
      if (!r.ok) throw new HttpError(r.reason.includes("already exists") || r.reason.includes("is used by") ? 409 : 400, r.reason);
      this.o.log.info({ host: r.host.hostname }, "host added");
      send(res, 201, { status: "pass", host: r.host });
      return;
    }
    if (!name) throw new HttpError(405, `${method} is not supported on /v1/hosts`);
    if (method === "PATCH") {
      const body = (await readJson(req)) as Record<string, unknown>;
      if (!("action" in body)) {
        // A modify of provisioning fields (addresses, MAC, BMC).
        const r = this.o.agent.modifyHost(name, body);
        if (!r.ok) throw new HttpError(r.notFound ? 404 : 400, r.reason);
        send(res, 200, { status: "pass", host: r.host });
        return;
      }
      const action = body.action;
      if (typeof action !== "string" || action.length > 32 || Object.keys(body).length > 1)
        throw new HttpError(400, 'an action request is {"action": "<action>"}');
      this.act(res, name, action);
      return;
    }
    if (method === "DELETE") {
      this.act(res, name, "delete");
      return;
    }
    throw new HttpError(405, `${method} is not supported on /v1/hosts/<name>`);
  }

  private act(res: ServerResponse, name: string, action: string): void {
    const r = this.o.agent.action(name, action);
    if (!r.ok) {
      const status = "notFound" in r ? 404 : 409;
      send(res, status, { status: "fail", reason: r.reason, action });
      return;
    }
    send(res, 202, { status: "pass", action, queued: r.queued, host: this.o.agent.host(name) });
  }

  private authorize(req: IncomingMessage): void {
    const token = this.o.token;
    if (!token) throw new HttpError(403, "mutations are disabled: no api.tokenFile is configured");
    const header = req.headers.authorization ?? "";
    const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
    const want = Buffer.from(token.reveal());
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new HttpError(401, "missing or wrong bearer token");
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HttpError(400, "request body must be a JSON object");
  return value;
}
