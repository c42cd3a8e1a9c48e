import type { IncomingMessage, ServerResponse } from "node:http";
import type { BusEvent, EventBus } from "./event-bus.js";

export interface SseOptions {
  bus: EventBus;
  /** The `Last-Event-ID` header (or `lastEventId` query) the client sent, if any. */
  lastEventId?: string;
  /** Events sent first when the stream starts fresh or cannot resume (e.g. the full host list). */
  snapshot?: () => Array<{ type: string; data: unknown }>;
  /** Comment line every this many ms so proxies and clients see the stream alive (default 15 s). */
  keepAliveMs?: number;
  /** Bytes the socket may hold unsent before this client is dropped as too slow (default 8 MiB). */
  maxBufferedBytes?: number;
  /** Milliseconds the client should wait before reconnecting (SSE `retry:`; default 1000). */
  retryMs?: number;
}

/** One SSE frame: `id:`, `event:` and one `data:` line of JSON (JSON never holds a raw newline). */
export function sseFrame(e: Pick<BusEvent, "id" | "type" | "data">): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

/**
 * Serve the bus as Server-Sent Events (WHATWG HTML §9.2) on a raw response. A known `lastEventId` replays what
 * was missed; an unknown or expired one (agent restarted, ring overrun) starts with a `resync` event (then the
 * snapshot, when given) so the client knows it must reload what it shows. A client whose socket buffer grows
 * beyond `maxBufferedBytes` is dropped rather than let the agent's memory grow. Resolves when the client is gone.
 */
export function serveSse(req: IncomingMessage, res: ServerResponse, o: SseOptions): Promise<void> {
  const max = o.maxBufferedBytes ?? 8 * 1024 * 1024;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.socket?.setNoDelay(true);
  // Subscribe before the replay is computed: nothing published in between is lost (ids are checked below).
  const queued: BusEvent[] = [];
  let live = false;
  let lastSeq = 0;
  let closed = false;
  const write = (text: string) => {
    if (closed) return;
    res.write(text);
    if (res.writableLength > max) close();
  };
  const send = (e: BusEvent) => {
    if (e.seq <= lastSeq) return;
    lastSeq = e.seq;
    write(sseFrame(e));
  };
  const off = o.bus.subscribe((e) => {
    if (live) send(e);
    else queued.push(e);
  });
  write(`retry: ${o.retryMs ?? 1000}\n\n`);
  const resumed = o.lastEventId ? o.bus.since(o.lastEventId) : undefined;
  if (resumed) {
    for (const e of resumed) send(e);
  } else {
    const id = o.bus.lastId;
    lastSeq = Number(id.slice(id.indexOf("-") + 1));
    if (o.lastEventId) write(sseFrame({ id, type: "resync", data: { reason: "the event id cannot be resumed; reload" } }));
    for (const s of o.snapshot?.() ?? []) write(sseFrame({ id, type: s.type, data: s.data }));
  }
  live = true;
  for (const e of queued.splice(0)) send(e);
  const keepAlive = setInterval(() => write(": keep-alive\n\n"), o.keepAliveMs ?? 15_000);
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  function close() {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    off();
    res.destroy();
    done();
  }
  req.on("close", close);
  res.on("close", close);
  res.on("error", close);
  return finished;
}
