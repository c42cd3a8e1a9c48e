/**
 * The agent's event stream behind `GET /v1/events`: every published event gets an id `<boot>-<seq>` (boot = the
 * bus's creation time in base 36, seq counting from 1) and is kept in a bounded ring so a client that reconnects
 * with `Last-Event-ID` gets what it missed. An id from another boot (the agent restarted) or one that fell out of
 * the ring cannot be resumed: `since()` says so and the stream tells the client to resynchronise.
 */
export interface BusEvent {
  /** `<boot>-<seq>`, what SSE sends as `id:`. */
  id: string;
  seq: number;
  /** Milliseconds since the epoch (the clock the bus was given). */
  at: number;
  /** SSE event name: host, host-removed, alarm, heartbeat, ... */
  type: string;
  data: unknown;
}

export type EventListener = (e: BusEvent) => void;

export interface EventBusOptions {
  /** Events kept for resume (default 10,000). */
  capacity?: number;
  now?: () => number;
}

export class EventBus {
  readonly boot: string;
  private readonly ring: BusEvent[] = [];
  private readonly capacity: number;
  private readonly now: () => number;
  private seq = 0;
  private readonly listeners = new Set<EventListener>();

  constructor(o: EventBusOptions = {}) {
    this.capacity = o.capacity ?? 10_000;
    this.now = o.now ?? Date.now;
    this.boot = this.now().toString(36);
  }

  /** The id of the newest event (or `<boot>-0` before the first). */
  get lastId(): string {
    return `${this.boot}-${this.seq}`;
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  publish(type: string, data: unknown): BusEvent {
    const e: BusEvent = { id: `${this.boot}-${++this.seq}`, seq: this.seq, at: this.now(), type, data };
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's failure is its own (the SSE writer drops its client); the others still get the event.
      }
    }
    return e;
  }

  /**
   * The events after `lastId`, oldest first; `undefined` when that id cannot be resumed from (another boot, a
   * malformed id, or older than the ring holds).
   */
  since(lastId: string): BusEvent[] | undefined {
    const m = /^([0-9a-z]{1,16})-(\d{1,15})$/.exec(lastId);
    if (!m || m[1] !== this.boot) return undefined;
    const seq = Number(m[2]);
    if (seq > this.seq) return undefined;
    if (seq === this.seq) return [];
    const first = this.ring[0];
    if (!first || seq < first.seq - 1) return undefined;
    return this.ring.slice(seq - first.seq + 1);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
