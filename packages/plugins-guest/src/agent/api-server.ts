import { createServer, type Server } from "node:http";
import type { Logger } from "@metal/core/plugin-api";
import { type AgentOps, handleApiRequest } from "./vim-api.js";

const MAX_BODY_BYTES = 16 * 1024;

/** Serve the VIM API on address:port; bodies are bounded, every reply is JSON ending in a newline. */
export async function startApiServer(address: string, port: number, ops: AgentOps, log: Logger): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    const declared = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else parts.push(c);
    });
    req.on("end", () => {
      const reply = (status: number, body?: Record<string, unknown>) => {
        const text = body ? `${JSON.stringify(body)}\n` : "";
        res.writeHead(status, body ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) } : {});
        res.end(text);
      };
      if (tooBig) return reply(413, { status: "fail", reason: "invalid data" });
      try {
        const r = handleApiRequest(
          {
            method: req.method ?? "GET",
            url: req.url ?? "/",
            userAgent: req.headers["user-agent"],
            host: req.headers.host,
            localAddress: req.socket.localAddress,
            body: declared ? Buffer.concat(parts).toString("utf8") : undefined,
          },
          ops,
        );
        log.debug({ method: req.method, url: req.url, status: r.status }, "VIM API request");
        reply(r.status, r.body);
      } catch (err) {
        log.error({ err: (err as Error).message, url: req.url }, "VIM API handler failed");
        reply(500, { status: "fail", reason: "bad state" });
      }
    });
  });
  server.requestTimeout = 20_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: address, port, backlog: 10 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  return { server, port: typeof addr === "object" && addr ? addr.port : port };
}
