import { request } from "node:http";
import type { Clock } from "@metal/core/plugin-api";

export interface HttpReply {
  status: number;
  body: string;
}

/**
 * One HTTP/1.1 request with a JSON body, bounded by a timer on the injected clock. node:http rather than
 * fetch because the VIM's host query is a GET that carries a body (A.13), which fetch refuses.
 */
export function httpJson(clock: Clock, method: string, url: string, body: unknown, timeoutMs: number, maxReplyBytes = 1 << 20): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { "User-Agent": "guest-agent/1.0", "Content-Type": "application/json", Connection: "close" };
    if (data) headers["Content-Length"] = data.length;
    const req = request({ host: u.hostname, port: u.port || 80, path: `${u.pathname}${u.search}`, method, headers }, (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > maxReplyBytes) req.destroy(new Error("reply too large"));
        else parts.push(c);
      });
      res.on("end", () => {
        clock.clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") });
      });
      res.on("error", (err) => {
        clock.clearTimeout(timer);
        reject(err);
      });
    });
    const timer = clock.setTimeout(() => req.destroy(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);
    req.on("error", (err) => {
      clock.clearTimeout(timer);
      reject(err);
    });
    req.end(data);
  });
}
