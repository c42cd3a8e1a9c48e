import type { Clock } from "@metal/core/plugin-api";

/**
 * One lane per BMC address in this process: ipmitool commands to the same BMC run one at a time with a
 * minimum gap, whichever driver issues them (Ironic's min_command_interval, peers.md 1.3 and 5.6).
 */
export class BmcLane {
  private static readonly lanes = new Map<string, BmcLane>();
  private tail: Promise<unknown> = Promise.resolve();
  private lastEnd = Number.NEGATIVE_INFINITY;
  /** Commands waiting or running, for metrics and tests. */
  depth = 0;
  maxDepth = 0;

  private constructor(private readonly clock: Clock) {}

  static for(key: string, clock: Clock): BmcLane {
    let lane = BmcLane.lanes.get(key);
    if (!lane) {
      lane = new BmcLane(clock);
      BmcLane.lanes.set(key, lane);
    }
    return lane;
  }

  run<T>(minIntervalMs: number, fn: () => Promise<T>): Promise<T> {
    this.depth++;
    this.maxDepth = Math.max(this.maxDepth, this.depth);
    const result = this.tail.then(async () => {
      const wait = this.lastEnd + minIntervalMs - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait);
      try {
        return await fn();
      } finally {
        this.lastEnd = this.clock.now();
        this.depth--;
      }
    });
    this.tail = result.catch(() => {});
    return result;
  }
}
