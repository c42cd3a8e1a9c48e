import type { Clock, Logger } from "../plugin-api/services.js";

/**
 * Bad input gets one log line, not a flood: at most one line per key per window, with a count of what
 * was suppressed in between.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly windowMs = 10_000,
    private readonly maxKeys = 1024,
  ) {}

  warn(key: string, obj: Record<string, unknown>, msg: string): void {
    const now = this.clock.now();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.windowMs) {
      seen.suppressed++;
      return;
    }
    if (!seen && this.last.size >= this.maxKeys) this.last.clear();
    const suppressed = seen?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    this.log.warn(suppressed ? { ...obj, suppressed } : obj, msg);
  }
}
