import type { Server } from "node:http";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { Logger } from "@metal/core/plugin-api";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { jsonSchemaTransform, validatorCompiler } from "fastify-type-provider-zod";
import { z } from "zod";
import { type AgentOps, handleApiRequest } from "./vim-api.js";

const MAX_BODY_BYTES = 16 * 1024;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

const Uuid = z.string().describe("36-character uuid");
const Command = z.enum(["enable", "disable", "vote", "notify"]);
const Fail = z
  .object({ status: z.literal("fail"), reason: z.string() })
  .describe("reasons: command parse error, no buffer, entity not found, invalid data, bad state");
const Services = z.array(z.object({ service: z.string(), state: z.enum(["enabled", "disabled"]) }).loose());
const Body = z
  .object({ uuid: z.string().optional(), hostname: z.string().optional(), services: Services.optional(), action: z.string().max(32).optional() })
  .loose()
  .optional()
  .describe("hosts/{uuid}/enable|disable: {hostname}; instances/{uuid} POST/PATCH: {hostname, services}; instances/{uuid}/vote|notify: {action}");
const Reply = z.record(z.string(), z.unknown());
const responses = { 200: Reply, 204: z.null().describe("deleted"), 400: Fail, 403: Fail, 404: Fail, 409: Fail, 411: Fail, 413: Fail };

/**
 * Serve guestAgent's VIM API (reference A.12) on Fastify: routes with zod schemas for `/v1/hosts/{uuid}[/{command}]`
 * and `/v1/instances/{uuid}[/{command}]`, the OpenAPI document at `/v1/openapi.json` and docs at `/v1/docs`. The
 * answers stay the reference's, decided by `handleApiRequest` (vim-api.ts) for every path, including those the
 * original finds by substring: bodies bounded (413 `invalid data`), a request without a body 411, a bad uuid
 * or command 403 `command parse error`, a wrong User-Agent or foreign Host header refused; every reply is JSON
 * ending in a newline.
 */
export async function startApiServer(address: string, port: number, ops: AgentOps, log: Logger): Promise<{ server: Server; port: number }> {
  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES, requestTimeout: 20_000, forceCloseConnections: true });
  app.server.headersTimeout = 10_000;
  // Bodies are documented by their schema but judged by the reference's parser (they arrive as text).
  app.setValidatorCompiler((route) => (route.httpPart === "body" ? (value: unknown) => ({ value }) : validatorCompiler(route as never)));
  app.setSerializerCompiler(() => (data) => `${JSON.stringify(data)}\n`);
  // The VIM's bodies reach the reference's parser as text, whatever the content type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));
  const send = (res: FastifyReply, status: number, body?: Record<string, unknown>) => {
    if (!body) return res.code(status).send();
    return res
      .code(status)
      .type("application/json")
      .send(`${JSON.stringify(body)}\n`);
  };
  app.setErrorHandler((err: { code?: string; validation?: unknown; message: string }, req, res) => {
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") return send(res, 413, { status: "fail", reason: "invalid data" });
    // A uuid or command the schema refuses is the reference's parse error.
    if (err.validation) return send(res, 403, { status: "fail", reason: "command parse error" });
    log.error({ err: err.message, url: req.url }, "VIM API handler failed");
    return send(res, 500, { status: "fail", reason: "bad state" });
  });
  const handle = (req: FastifyRequest, res: FastifyReply) => {
    const declared = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
    const raw = req.body;
    const r = handleApiRequest(
      {
        method: req.method,
        url: req.url,
        userAgent: req.headers["user-agent"],
        host: req.headers.host,
        localAddress: req.socket.localAddress,
        body: declared ? (typeof raw === "string" ? raw : "") : undefined,
      },
      ops,
    );
    log.debug({ method: req.method, url: req.url, status: r.status }, "VIM API request");
    return send(res, r.status, r.body);
  };
  app.setNotFoundHandler(handle);
  await app.register(fastifySwagger, {
    openapi: { openapi: "3.0.3", info: { title: "metal guestAgent VIM API", version: "1", description: "reference A.12" } },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/v1/docs" });
  app.get("/v1/openapi.json", { schema: { hide: true } }, () => app.swagger());
  const withBody = (m: string) => m === "POST" || m === "PUT" || m === "PATCH";
  for (const level of ["hosts", "instances"] as const) {
    for (const method of METHODS)
      app.route({
        method,
        url: `/v1/${level}/:uuid`,
        schema: {
          summary: `${method} one ${level.slice(0, -1)}`,
          params: z.object({ uuid: Uuid }),
          ...(withBody(method) ? { body: Body } : {}),
          response: responses,
        },
        handler: handle,
      });
    for (const method of level === "hosts" ? (["PUT", "GET"] as const) : (["POST"] as const))
      app.route({
        method,
        url: `/v1/${level}/:uuid/:command`,
        schema: {
          summary: level === "hosts" ? "enable or disable a host's guest heartbeat reporting" : "vote or notify an instance of an action",
          params: z.object({ uuid: Uuid, command: Command }),
          ...(withBody(method) ? { body: Body } : {}),
          response: responses,
        },
        handler: handle,
      });
  }
  await app.listen({ host: address, port, backlog: 10 });
  const addr = app.server.address();
  // The caller closes the node server; closing it closes Fastify's hooks with it.
  return { server: app.server, port: typeof addr === "object" && addr ? addr.port : port };
}
