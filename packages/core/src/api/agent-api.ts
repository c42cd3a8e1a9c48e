import { timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { MtcAgent, MutationFailure } from "../agent/mtc-agent.js";
import type { Secret } from "../plugin-api/secret.js";
import type { Logger } from "../plugin-api/services.js";
import { feedAgentEvents } from "./agent-feed.js";
import type { ClusterSource } from "./cluster-source.js";
import { httpStatusOf } from "./errors.js";
import { EventBus } from "./event-bus.js";
import { HostHistory } from "./host-history.js";
import { hostSummary } from "./host-summary.js";
import { AgentMetrics } from "./metrics.js";
import { decodeRequestBody, MAX_BODY } from "./request-body.js";
import {
  ActionReply,
  AlarmsReply,
  ClusterReply,
  decodePatch,
  FailBody,
  HistoryReply,
  HostName,
  HostReply,
  HostsReply,
  NewHostBody,
  PatchHostBody,
  SensorsReply,
} from "./schemas.js";
import { serveSse } from "./sse.js";
import { loadDashboard } from "./ui-files.js";

export { MAX_BODY } from "./request-body.js";
/** Most clients following /v1/events at once; more get 503. */
export const MAX_EVENT_CLIENTS = 64;

export interface AgentApiOptions {
  agent: MtcAgent;
  log: Logger;
  /** The bearer token mutations need; without one every mutation is refused (403). */
  token?: Secret;
  address: string;
  port: number;
  /** The heartbeat cluster view for `/v1/cluster` and the dashboard's heat map (absent: 503). */
  cluster?: ClusterSource;
  /** Milliseconds a BMC sensor read may take for `/v1/hosts/{name}/sensors` (default 10 s). */
  sensorTimeoutMs?: number;
  /** With the controller pair (issue 12): a standby answers reads from its warm copy and mutations with 503 + the active's API. */
  ha?: ApiHa;
}

/** The HA side the API needs (ha/ha-node.ts): whether this agent acts, where the active is, `GET /v1/ha`. */
export interface ApiHa {
  readonly active: boolean;
  readonly activeApi: { hostname: string; api?: string } | undefined;
  status(): Promise<unknown>;
}

/** An error the handlers throw to answer `{"status":"fail","reason":...}` with `status`. */
class HttpFail extends Error {
  readonly code = "HTTP_FAIL";
  constructor(
    readonly statusCode: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const fail = (res: FastifyReply, status: number, reason: string, extra: Record<string, unknown> = {}) =>
  res
    .code(status)
    .type("application/json")
    .send({ status: "fail", reason, ...extra });

const PASS = "pass" as const;
const NameParams = z.object({ name: HostName });
const failResponses = { 400: FailBody, 401: FailBody, 403: FailBody, 404: FailBody, 409: FailBody, 413: FailBody, 503: FailBody, 507: FailBody };

/**
 * The agent's HTTP face on Fastify (the inbound role sysinv plays in the original, reference §1.3): the REST API
 * (hosts CRUD and admin actions, alarms, history, sensors, the heartbeat cluster view) with zod route schemas
 * and its OpenAPI document at `/v1/openapi.json` (docs at `/v1/docs`), the live event stream `/v1/events`
 * (SSE), Prometheus `/metrics`, and the dashboard at `/ui/`. Loopback by default. Reads are open; every
 * mutation needs `Authorization: Bearer <token>` (the token of `api.tokenFile`), checked before the body is read.
 * Errors are JSON `{"status":"fail","reason":...}` with a matching HTTP status.
 */
export class AgentApi {
  readonly bus = new EventBus();
  readonly metrics: AgentMetrics;
  readonly history: HostHistory;
  private app: FastifyInstance | undefined;
  private stopFeed: (() => void) | undefined;
  private readonly eventClients = new Set<() => void>();

  constructor(private readonly o: AgentApiOptions) {
    this.metrics = new AgentMetrics(o.agent, this.bus);
    this.history = new HostHistory(this.bus);
  }

  /** Build the Fastify instance (routes registered, not listening): for `start()` and for `inject()` in tests. */
  async build(): Promise<FastifyInstance> {
    const { agent, log } = this.o;
    // Node checks headersTimeout only every connectionsCheckingInterval (30 s by default): check every second,
    // so a client that trickles its headers is cut off at 10 s, not ~32 s later.
    const serverFactory = (handler: Parameters<typeof createServer>[1]): Server =>
      createServer({ headersTimeout: 10_000, requestTimeout: 15_000, connectionsCheckingInterval: 1_000 }, handler);
    const app = Fastify({
      logger: false,
      bodyLimit: MAX_BODY,
      requestTimeout: 15_000,
      return503OnClosing: true,
      forceCloseConnections: true,
      serverFactory,
    }) as unknown as FastifyInstance;
    app.setValidatorCompiler(validatorCompiler);
    // Response schemas document the API; replies are plain JSON (no second validation pass per reply).
    app.setSerializerCompiler(() => (data) => JSON.stringify(data));
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => {
      const r = decodeRequestBody(body as Buffer);
      if (r.ok) done(null, r.value);
      else done(new HttpFail(httpStatusOf(r.code), r.reason, { code: r.code }), undefined);
    });
    app.setErrorHandler((err: FastifyError | HttpFail, req, res) => {
      if (err instanceof HttpFail) return fail(res, err.statusCode, err.message, err.extra);
      if ((err as FastifyError).validation) return fail(res, 400, validationReason(err as FastifyError));
      if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") return fail(res, 413, `request body over ${MAX_BODY} bytes`);
      if (err.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return fail(res, 400, "request body is not valid JSON");
      const status = err.statusCode ?? 500;
      if (status >= 400 && status < 500) return fail(res, status, err.message);
      log.error({ err: err.message, url: req.url }, "api handler failed");
      return fail(res, 500, "internal error");
    });
    app.setNotFoundHandler((req, res) => {
      const path = req.url.split("?")[0] ?? "/";
      if (/^\/v1\/(hosts|alarms)(\/[^/]+)?$/.test(path))
        return fail(res, 405, `${req.method} is not supported on ${path.startsWith("/v1/hosts/") ? "/v1/hosts/<name>" : path}`);
      return fail(res, 404, `no such resource: ${path}`);
    });

    await app.register(fastifySwagger, {
      openapi: {
        openapi: "3.0.3",
        info: { title: "metal mtcAgent API", version: "1", description: "Hosts, admin actions, alarms, events and the heartbeat cluster view" },
        components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      },
      transform: jsonSchemaTransform,
    });
    await app.register(fastifySwaggerUi, { routePrefix: "/v1/docs" });

    const authorize = async (req: FastifyRequest) => {
      const token = this.o.token;
      if (!token) throw new HttpFail(403, "mutations are disabled: no api.tokenFile is configured");
      const header = req.headers.authorization ?? "";
      const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
      const want = Buffer.from(token.reveal());
      // A blank token never means "no authentication" (the token file is also checked at start).
      if (want.length === 0) throw new HttpFail(403, "mutations are disabled: the API token is empty");
      if (given.length !== want.length || !timingSafeEqual(given, want)) throw new HttpFail(401, "missing or wrong bearer token");
      const ha = this.o.ha;
      if (ha && !ha.active) {
        const a = ha.activeApi;
        throw new HttpFail(
          503,
          a
            ? `this controller is standby; ${a.hostname} is active${a.api ? ` at ${a.api}` : ""}`
            : "no active controller right now (election in progress or no etcd quorum)",
          a ? { active: a.hostname, ...(a.api ? { activeApi: a.api } : {}) } : {},
        );
      }
    };
    /** A refused mutation: its code decides the status (a full disk is 507, a failing store 503). */
    const refuse = (f: MutationFailure, extra: Record<string, unknown> = {}) => new HttpFail(httpStatusOf(f.code), f.reason, { code: f.code, ...extra });
    const act = async (res: FastifyReply, name: string, action: string) => {
      const r = await agent.commitAction(name, action);
      if (!r.ok) throw refuse(r, { action });
      res.code(202);
      const host = agent.host(name);
      return { status: PASS, action, queued: r.queued, ...(host ? { host } : {}) };
    };
    const mustHost = (name: string) => {
      if (!agent.ctx(name)) throw new HttpFail(404, `no host named '${name}'`);
    };
    const secured = [{ bearer: [] as string[] }];

    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get("/v1/openapi.json", { schema: { hide: true } }, () => app.swagger());
    r.get("/", { schema: { hide: true } }, (_req, res) => res.redirect("/ui/"));
    r.get("/v1/hosts", { schema: { summary: "every host", response: { 200: HostsReply } } }, () => ({ status: PASS, hosts: agent.hosts() }));
    r.get("/v1/hosts/:name", { schema: { summary: "one host", params: NameParams, response: { 200: HostReply, 404: FailBody } } }, (req) => {
      const h = agent.host(req.params.name);
      if (!h) throw new HttpFail(404, `no host named '${req.params.name}'`);
      return { status: PASS, host: h };
    });
    r.post(
      "/v1/hosts",
      { onRequest: authorize, schema: { summary: "add a host", security: secured, body: NewHostBody, response: { 201: HostReply, ...failResponses } } },
      async (req, res) => {
        const added = await agent.commitAdd(req.body);
        if (!added.ok) throw refuse(added);
        log.info({ host: added.host.hostname }, "host added");
        res.code(201);
        return { status: PASS, host: added.host };
      },
    );
    r.patch(
      "/v1/hosts/:name",
      {
        onRequest: authorize,
        schema: {
          summary: "an admin action, or a modify of provisioning fields",
          security: secured,
          params: NameParams,
          body: PatchHostBody,
          response: { 200: HostReply, 202: ActionReply, ...failResponses },
        },
      },
      async (req, res) => {
        const name = req.params.name;
        const patch = decodePatch(req.body as Record<string, unknown>);
        if (patch.kind === "invalid") throw new HttpFail(400, patch.reason, { code: "INVALID" });
        if (patch.kind === "modify") {
          const m = await agent.commitModify(name, patch.fields);
          if (!m.ok) throw refuse(m);
          return { status: PASS, host: m.host };
        }
        return act(res, name, patch.action);
      },
    );
    r.delete(
      "/v1/hosts/:name",
      { onRequest: authorize, schema: { summary: "delete a host", security: secured, params: NameParams, response: { 202: ActionReply, ...failResponses } } },
      (req, res) => act(res, req.params.name, "delete"),
    );
    r.get(
      "/v1/ha",
      // 404 on an agent without the controller pair (the file store); the pair's answer is documented by `metal ha status --json`.
      {
        schema: {
          summary: "the controller pair: members, active, epoch, lease TTL, store health, cluster views",
          response: { 200: z.object({ status: z.literal("pass"), ha: z.unknown() }), 404: FailBody },
        },
      },
      async () => {
        if (!this.o.ha) throw new HttpFail(404, "this agent runs without the controller pair (store.kind is file)");
        return { status: PASS, ha: await this.o.ha.status() };
      },
    );
    r.get("/v1/alarms", { schema: { summary: "active alarms", response: { 200: AlarmsReply } } }, () => ({
      status: PASS,
      alarms: [...agent.alarms.active()],
    }));
    r.get(
      "/v1/hosts/:name/history",
      { schema: { summary: "a host's recent state changes and alarms", params: NameParams, response: { 200: HistoryReply, 404: FailBody } } },
      (req) => {
        mustHost(req.params.name);
        return { status: PASS, history: this.history.of(req.params.name) };
      },
    );
    r.get(
      "/v1/hosts/:name/sensors",
      {
        schema: {
          summary: "a host's BMC sensor readings (read now, through the BMC broker)",
          params: NameParams,
          response: { 200: SensorsReply, 404: FailBody, 409: FailBody, 502: FailBody },
        },
      },
      async (req) => {
        const c = agent.ctx(req.params.name);
        if (!c) throw new HttpFail(404, `no host named '${req.params.name}'`);
        const sensors = c.bmc()?.sensors;
        if (!sensors) throw new HttpFail(409, `${req.params.name} has no BMC with sensors provisioned`);
        try {
          const readings = await withTimeout(sensors.read(), this.o.sensorTimeoutMs ?? 10_000);
          return { status: PASS, sensors: readings };
        } catch (err) {
          throw new HttpFail(502, `sensor read failed: ${(err as Error).message}`);
        }
      },
    );
    r.get(
      "/v1/cluster",
      { schema: { summary: "the heartbeat cluster vault (20 periods per controller and network)", response: { 200: ClusterReply, 503: FailBody } } },
      async () => {
        if (!this.o.cluster) throw new HttpFail(503, "no heartbeat cluster view on this agent");
        try {
          return { status: PASS, ...(await this.o.cluster.get()) };
        } catch (err) {
          throw new HttpFail(503, (err as Error).message);
        }
      },
    );
    r.get(
      "/v1/events",
      {
        schema: {
          summary: "live events (Server-Sent Events): host, host-removed, alarm, heartbeat; resume with Last-Event-ID",
          querystring: z.object({
            snapshot: z.enum(["0", "1"]).optional().describe("1: start with a host event per host and an alarms event"),
            lastEventId: z.string().max(64).optional().describe("resume after this id (for clients that cannot set the header)"),
          }),
          headers: z.object({ "last-event-id": z.string().max(64).optional() }).loose(),
          response: { 200: z.string().describe("text/event-stream"), 503: FailBody },
        },
      },
      async (req, res) => {
        if (this.eventClients.size >= MAX_EVENT_CLIENTS) throw new HttpFail(503, `too many event clients (${MAX_EVENT_CLIENTS})`);
        const lastEventId = req.headers["last-event-id"] ?? req.query.lastEventId;
        const snapshot =
          req.query.snapshot === "1"
            ? () => [
                ...[...agent.scheduler.hosts.values()].map((c) => ({ type: "host", data: hostSummary(c) })),
                { type: "alarms", data: [...agent.alarms.active()] },
              ]
            : undefined;
        res.hijack();
        const done = serveSse(req.raw, res.raw, { bus: this.bus, ...(lastEventId ? { lastEventId } : {}), ...(snapshot ? { snapshot } : {}) });
        const close = () => res.raw.destroy();
        this.eventClients.add(close);
        await done;
        this.eventClients.delete(close);
      },
    );
    r.get(
      "/metrics",
      { schema: { summary: "Prometheus metrics (text exposition format)", response: { 200: z.string().describe("text/plain; version=0.0.4") } } },
      async (_req, res) => {
        const m = await this.metrics.scrape();
        return res.type(m.contentType).send(m.text);
      },
    );
    const ui = await loadDashboard();
    const sendFile = (res: FastifyReply, path: string) => {
      const f = ui.get(path);
      if (!f) return fail(res, 404, `no such resource: /ui/${path}`);
      return res.type(f.type).header("cache-control", "no-cache").send(f.body);
    };
    r.get("/ui", { schema: { hide: true } }, (_req, res) => res.redirect("/ui/"));
    r.get("/ui/", { schema: { hide: true } }, (_req, res) => sendFile(res, "index.html"));
    r.get("/ui/*", { schema: { hide: true } }, (req, res) => sendFile(res, (req.params as { "*": string })["*"]));
    this.stopFeed = feedAgentEvents(agent, this.bus, this.metrics.observer);
    return app;
  }

  async start(): Promise<{ address: string; port: number }> {
    const app = await this.build();
    this.app = app;
    await app.listen({ port: this.o.port, host: this.o.address });
    const a = app.server.address() as AddressInfo;
    return { address: a.address, port: a.port };
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    this.stopFeed?.();
    this.history.stop();
    for (const close of this.eventClients) close();
    await app?.close();
  }
}

function validationReason(err: FastifyError): string {
  const first = err.validation?.[0];
  const where = err.validationContext ?? "request";
  if (!first) return `${where}: ${err.message}`;
  const path = (first.instancePath || "").replace(/^\//, "").replaceAll("/", ".");
  return `${where}${path ? ` ${path}` : ""}: ${first.message ?? "invalid"}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
