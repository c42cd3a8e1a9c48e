import type { Clock, Logger } from "../plugin-api/services.js";

/**
 * The agent logs its receive rate when it exceeds MSGS_PER_SEC_THRESHOLD (20 msg/s) over a window
 * (60 s), so a storm shows in the log without a line per message.
 */
export class MessageRateLog {
  private count = 0;
  private windowStart: number;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly thresholdPerSec: number,
    private readonly windowMs: number,
  ) {
    this.windowStart = clock.now();
  }

  /** Count `n` received messages; returns the rate when a window closed above the threshold. */
  add(n: number): number | undefined {
    this.count += n;
    const now = this.clock.now();
    const elapsed = now - this.windowStart;
    if (elapsed < this.windowMs) return undefined;
    const rate = (this.count * 1000) / elapsed;
    this.count = 0;
    this.windowStart = now;
    if (rate <= this.thresholdPerSec) return undefined;
    this.log.info({ rate: Math.round(rate), windowS: Math.round(elapsed / 1000) }, "mtcAgent inbox message rate above threshold");
    return rate;
  }
}
