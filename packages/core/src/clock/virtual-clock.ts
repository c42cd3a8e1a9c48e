import type { Clock, TimerHandle } from "../plugin-api/services.js";

interface PendingTimer {
  id: number;
  due: number;
  seq: number;
  fn: () => void;
  every?: number;
}

/**
 * Virtual time for tests: nothing happens until `advance` moves the clock. Timers fire in due order
 * (ties in creation order), and promise callbacks scheduled by a timer settle before the next timer
 * fires, so async state machines behave as they would in real time.
 */
export class VirtualClock implements Clock {
  private current: number;
  private nextId = 1;
  private seq = 0;
  private readonly timers = new Map<number, PendingTimer>();

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Number of timers waiting. */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.current + Math.max(0, ms);
    await flushMicrotasks();
    for (let fired = 0; ; fired++) {
      if (fired > 10_000_000) throw new Error("VirtualClock.advance: runaway timers");
      const next = this.earliest();
      if (!next || next.due > target) break;
      this.current = next.due;
      if (next.every) {
        next.due += next.every;
        next.seq = this.seq++;
      } else {
        this.timers.delete(next.id);
      }
      next.fn();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Advance until `predicate` holds, in `step` increments, at most `limitMs` of virtual time. */
  async advanceUntil(predicate: () => boolean, limitMs: number, step = 100): Promise<boolean> {
    for (let spent = 0; spent <= limitMs; spent += step) {
      if (predicate()) return true;
      await this.advance(step);
    }
    return predicate();
  }

  private add(fn: () => void, ms: number, every?: number): TimerHandle {
    const id = this.nextId++;
    const timer: PendingTimer = { id, due: this.current + Math.max(0, ms), seq: this.seq++, fn };
    if (every !== undefined) timer.every = every;
    this.timers.set(id, timer);
    return { id };
  }

  private earliest(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers.values()) {
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Let queued promise callbacks run (several rounds, for chains of awaits). */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
