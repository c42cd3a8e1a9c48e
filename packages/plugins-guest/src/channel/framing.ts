/**
 * Channel framing (reference A.3): every message is `"\n" + one-line JSON + "\n"`. The receiver splits the
 * byte stream on `\n`; each non-blank segment is one candidate JSON object. A segment longer than the
 * limit is dropped whole (up to its closing newline) and reported once, so a hostile guest cannot make the
 * host buffer without bound.
 */

/** MAX_MSG_SIZE of the original's host read buffer; no legal message comes near it. */
export const MAX_FRAME_BYTES = 1056;

const NEWLINE = 0x0a;

export type FrameResult = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/** `\n{json}\n` for one message object. JSON.stringify never emits a raw newline, so the frame stays one line. */
export function encodeFrame(message: object): string {
  return `\n${JSON.stringify(message)}\n`;
}

/** Parse one frame's text into a JSON object, or say why not. Never throws. */
export function parseFrameText(text: string): FrameResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "failed to parse message: not JSON" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { ok: false, reason: "failed to parse message: not a JSON object" };
  return { ok: true, value: value as Record<string, unknown> };
}

/** Streaming splitter: feed it chunks as they arrive, get back every frame completed by them. */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes are being discarded until the next newline because the current frame is already too long. */
  private discarding = false;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): FrameResult[] {
    const out: FrameResult[] = [];
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      this.take(chunk, start, end, out);
      if (nl === -1) break;
      this.finishSegment(out);
      start = nl + 1;
    }
    return out;
  }

  /** Bytes held for an incomplete frame (for tests and the oversize bound). */
  get buffered(): number {
    return this.pendingBytes;
  }

  private take(chunk: Buffer, start: number, end: number, out: FrameResult[]): void {
    if (end <= start || this.discarding) return;
    if (this.pendingBytes + (end - start) > this.maxFrameBytes) {
      this.pending = [];
      this.pendingBytes = 0;
      this.discarding = true;
      out.push({ ok: false, reason: `message too large: over ${this.maxFrameBytes} bytes` });
      return;
    }
    // Copy: a pending partial frame must not pin the whole socket chunk.
    this.pending.push(Buffer.from(chunk.subarray(start, end)));
    this.pendingBytes += end - start;
  }

  private finishSegment(out: FrameResult[]): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    if (this.pendingBytes === 0) return;
    const text = (this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes)).toString("utf8");
    this.pending = [];
    this.pendingBytes = 0;
    // The original's tokener skips whitespace between frames; a blank segment is not a message.
    if (text.trim() === "") return;
    out.push(parseFrameText(text));
  }
}
