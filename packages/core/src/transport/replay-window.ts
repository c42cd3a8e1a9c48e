/**
 * Replay protection for authenticated datagrams (wire/authenticated.ts): a datagram is fresh when its send
 * time is within `windowMs` of this node's clock and its (sender id, sequence) has not been accepted before.
 * Per sender the highest sequence and a 1024-bit bitmap below it are kept (the IPsec anti-replay window, RFC
 * 4303 §3.4.3), so datagrams reordered by the network still pass while each is taken once. A sender silent for
 * long enough that its newest accepted send time is stale is forgotten: everything it sent is stale by then.
 */

export type ReplayVerdict = "fresh" | "stale" | "future" | "replay" | "too-many-senders";

const WORD_BITS = 32;

interface SenderState {
  top: number;
  bits: Uint32Array;
  /** The newest send time accepted from this sender: once it is stale, so is everything the sender sent. */
  newest: number;
}

export interface ReplayWindowOptions {
  /** Accept send times within this many ms of now, either way (clock skew between hosts included). */
  windowMs: number;
  /** Sequence numbers this far below the highest seen are still accepted once (reordering); multiple of 32. */
  sequenceWindow?: number;
  /** Senders tracked at once; a new sender beyond this is refused until old ones age out. */
  maxSenders?: number;
}

/** Per-sender sequence bookkeeping; `check` records what it accepts. Bounded in memory by `maxSenders`. */
export class ReplayWindow {
  private readonly senders = new Map<string | number, SenderState>();
  private readonly windowMs: number;
  private readonly seqWindow: number;
  private readonly maxSenders: number;

  constructor(options: ReplayWindowOptions) {
    this.windowMs = options.windowMs;
    this.seqWindow = Math.max(WORD_BITS, Math.ceil((options.sequenceWindow ?? 1024) / WORD_BITS) * WORD_BITS);
    this.maxSenders = options.maxSenders ?? 16_384;
  }

  get size(): number {
    return this.senders.size;
  }

  /**
   * Judge one authenticated datagram. `sender` identifies the stream (derived from the 8 sender-id bytes),
   * `timeMs` is its send time, `now` this node's wall clock. Only a "fresh" verdict is recorded.
   */
  check(sender: string | number, sequence: number, timeMs: number, now: number): ReplayVerdict {
    if (timeMs < now - this.windowMs) return "stale";
    if (timeMs > now + this.windowMs) return "future";
    let s = this.senders.get(sender);
    if (!s) {
      if (this.senders.size >= this.maxSenders) {
        this.forgetSilent(now);
        if (this.senders.size >= this.maxSenders) return "too-many-senders";
      }
      s = { top: sequence, bits: new Uint32Array(this.seqWindow / WORD_BITS), newest: timeMs };
      this.mark(s, sequence);
      this.senders.set(sender, s);
      return "fresh";
    }
    if (sequence > s.top) {
      const ahead = sequence - s.top;
      if (ahead >= this.seqWindow) s.bits.fill(0);
      else for (let q = s.top + 1; q < sequence; q++) this.clear(s, q);
      s.top = sequence;
      this.mark(s, sequence);
    } else {
      if (s.top - sequence >= this.seqWindow) return "replay";
      const i = sequence % this.seqWindow;
      if ((s.bits[i >>> 5] as number) & (1 << (i & 31))) return "replay";
      this.mark(s, sequence);
    }
    if (timeMs > s.newest) s.newest = timeMs;
    return "fresh";
  }

  /** Drop senders whose newest datagram is stale now (so a replay of any of theirs is refused by time). */
  forgetSilent(now: number): void {
    for (const [k, s] of this.senders) if (s.newest < now - this.windowMs) this.senders.delete(k);
  }

  private mark(s: SenderState, seq: number): void {
    const i = seq % this.seqWindow;
    s.bits[i >>> 5] = (s.bits[i >>> 5] as number) | (1 << (i & 31));
  }

  private clear(s: SenderState, seq: number): void {
    const i = seq % this.seqWindow;
    s.bits[i >>> 5] = (s.bits[i >>> 5] as number) & ~(1 << (i & 31));
  }
}
