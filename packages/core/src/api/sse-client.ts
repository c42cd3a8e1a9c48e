/** One Server-Sent Event as a client reads it. */
export interface SseEvent {
  id: string;
  event: string;
  /** The `data:` lines joined with newlines (JSON on this API). */
  data: string;
}

/**
 * Incremental SSE parser (WHATWG HTML §9.2.6): feed it text chunks as they arrive; it returns the complete events.
 * Comment lines (`:`) and `retry:` are skipped; an event without data is not dispatched. Never throws.
 */
export class SseParser {
  private buf = "";
  private cur: { id: string; event: string; data: string[] } = { id: "", event: "", data: [] };
  /** The id of the last dispatched event (what `Last-Event-ID` resumes from). */
  lastId = "";

  push(chunk: string): SseEvent[] {
    this.buf += chunk;
    const out: SseEvent[] = [];
    let nl = this.buf.search(/\r\n|\n|\r/);
    while (nl >= 0) {
      const line = this.buf.slice(0, nl);
      const sep = this.buf.startsWith("\r\n", nl) ? 2 : 1;
      this.buf = this.buf.slice(nl + sep);
      if (line === "") {
        if (this.cur.data.length) {
          if (this.cur.id) this.lastId = this.cur.id;
          out.push({ id: this.cur.id || this.lastId, event: this.cur.event || "message", data: this.cur.data.join("\n") });
        }
        this.cur = { id: "", event: "", data: [] };
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") this.cur.data.push(value);
        else if (field === "event") this.cur.event = value;
        else if (field === "id" && !value.includes("\0")) this.cur.id = value;
      }
      nl = this.buf.search(/\r\n|\n|\r/);
    }
    return out;
  }
}

export interface FollowOptions {
  url: string;
  /** Resume after this id. */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Called for every event; return false to stop following. */
  onEvent(e: SseEvent): boolean | undefined;
  /** Called when the stream ends or fails, before the next attempt (`attempt` counts from 1). */
  onDisconnect?(reason: string, attempt: number): void;
  /** Milliseconds between reconnects (default 1000). */
  retryMs?: number;
}

/**
 * Follow an SSE URL until `onEvent` returns false or the signal aborts, reconnecting after a failure with the
 * last id seen as `Last-Event-ID` so nothing in between is lost (the server replays it).
 */
export async function followSse(o: FollowOptions): Promise<void> {
  let lastId = o.lastEventId ?? "";
  let attempt = 0;
  for (;;) {
    if (o.signal?.aborted) return;
    const parser = new SseParser();
    let reason = "the stream ended";
    try {
      const res = await fetch(o.url, { headers: { accept: "text/event-stream", ...(lastId ? { "last-event-id": lastId } : {}) }, signal: o.signal ?? null });
      if (res.status !== 200 || !res.body) reason = `HTTP ${res.status}`;
      else {
        attempt = 0;
        const decoder = new TextDecoder();
        for await (const chunk of res.body) {
          for (const e of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
            if (e.id) lastId = e.id;
            if (o.onEvent(e) === false) return;
          }
        }
      }
    } catch (err) {
      if (o.signal?.aborted) return;
      const cause = (err as { cause?: Error }).cause;
      reason = cause?.message ?? (err as Error).message;
    }
    o.onDisconnect?.(reason, ++attempt);
    await new Promise((r) => setTimeout(r, o.retryMs ?? 1000));
  }
}
