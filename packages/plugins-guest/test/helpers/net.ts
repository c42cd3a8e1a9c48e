import { createSocket, type Socket } from "node:dgram";
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer } from "node:net";
import { decodeGuestDatagram, encodeGuestDatagram, type Payload } from "../../src/udp/guest-datagram.js";

/** An ephemeral TCP port that was free a moment ago (for daemons that take ports from config). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** An ephemeral UDP port that was free a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Poll `pred` every `stepMs` until it holds or `limitMs` passes; returns whether it held. Bounded in time. */
export async function waitFor(pred: () => boolean, limitMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return pred();
}

export interface Datagram {
  cmd: number;
  payload: Payload;
  from: { address: string; port: number };
}

/** A UDP endpoint speaking guest datagrams: plays guestAgent towards a guestServer, or mtcAgent. */
export class UdpPeer {
  readonly received: Datagram[] = [];
  private constructor(readonly socket: Socket) {
    socket.on("message", (data, rinfo) => {
      const d = decodeGuestDatagram(data);
      if (d.ok) this.received.push({ cmd: d.cmd, payload: d.payload, from: { address: rinfo.address, port: rinfo.port } });
    });
  }

  static async bind(port = 0): Promise<UdpPeer> {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(port, "127.0.0.1", () => r()));
    return new UdpPeer(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(port: number, cmd: number, payload: Payload): void {
    this.socket.send(encodeGuestDatagram(cmd, payload), port, "127.0.0.1");
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

export interface VimRequest {
  method: string;
  url: string;
  body: Record<string, unknown> | undefined;
  userAgent: string | undefined;
  at: number;
}

/** The VIM's guest REST API as guestAgent sees it: records every request, answers the audit's queries. */
export class FakeVim {
  readonly requests: VimRequest[] = [];
  hostState = "enabled";
  /** Answer this many PATCHes with 500 first (retry tests). */
  failPatches = 0;
  instances: Array<{ uuid: string; hostname: string; services: Array<{ service: string; state: string }> }> = [];
  private constructor(
    readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<FakeVim> {
    let vim: FakeVim | undefined;
    const server = createHttpServer((req: IncomingMessage, res) => {
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => {
        const text = Buffer.concat(parts).toString("utf8");
        let body: Record<string, unknown> | undefined;
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
        } catch {}
        vim?.requests.push({ method: req.method ?? "", url: req.url ?? "", body, userAgent: req.headers["user-agent"], at: Date.now() });
        res.setHeader("Content-Type", "application/json");
        if (req.method === "PATCH" && vim && vim.failPatches > 0) {
          vim.failPatches--;
          res.statusCode = 500;
          res.end("{}");
        } else if (req.method === "GET" && req.url?.startsWith("/nfvi-plugins/v1/hosts/")) {
          res.end(JSON.stringify({ uuid: body?.uuid, hostname: body?.hostname, state: vim?.hostState }));
        } else if (req.method === "GET" && req.url?.startsWith("/nfvi-plugins/v1/instances")) {
          res.end(JSON.stringify({ instances: vim?.instances ?? [] }));
        } else res.end("{}");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    vim = new FakeVim(server, (server.address() as { port: number }).port);
    return vim;
  }

  patches(uuid: string, eventType?: string): Array<Record<string, unknown>> {
    return this.requests
      .filter((r) => r.method === "PATCH" && r.url === `/nfvi-plugins/v1/instances/${uuid}` && (!eventType || r.body?.["event-type"] === eventType))
      .map((r) => r.body ?? {});
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
