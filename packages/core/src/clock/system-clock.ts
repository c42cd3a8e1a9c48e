import type { Clock, TimerHandle } from "../plugin-api/services.js";

/** Wall-clock time with real timers. They keep the process alive, as awaiting `sleep` must. */
export class SystemClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        fn();
      }, ms),
    );
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) clearTimeout(t);
    this.timers.delete(handle.id);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, setInterval(fn, ms));
    return { id };
  }

  clearInterval(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) clearInterval(t);
    this.timers.delete(handle.id);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
}

/**
 * Real timers on a stretched time line: at speed 60 a 20-minute boot timeout passes in 20 s.
 * The lab runs on it so simulated reboots take simulated time.
 */
export class ScaledClock extends SystemClock {
  private readonly realStart = Date.now();
  constructor(
    readonly speed: number,
    private readonly start = Date.now(),
  ) {
    super();
    if (!(speed > 0)) throw new RangeError(`clock speed must be > 0 (got ${speed})`);
  }

  override now(): number {
    return this.start + (Date.now() - this.realStart) * this.speed;
  }

  override setTimeout(fn: () => void, ms: number): TimerHandle {
    return super.setTimeout(fn, ms / this.speed);
  }

  override setInterval(fn: () => void, ms: number): TimerHandle {
    return super.setInterval(fn, ms / this.speed);
  }
}
