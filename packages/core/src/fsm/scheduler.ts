import type { Clock, TimerHandle } from "../plugin-api/services.js";
import { dispatch } from "./dispatcher.js";
import type { HostCtx } from "./host-context.js";

/**
 * One scheduler steps every host's FSM each pass (reference §2.2: the mtcAgent main loop). A pass never
 * blocks: stages only look at facts and launch work. `tickMs` is the pass period.
 */
export class Scheduler {
  readonly hosts = new Map<string, HostCtx>();
  passes = 0;
  private timer: TimerHandle | undefined;
  private readonly afterPass: Array<() => void> = [];
  /** When set and false, a pass does nothing (an HA standby, or a leader whose lease may have expired). */
  gate: (() => boolean) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly tickMs: number,
  ) {}

  onPass(fn: () => void): void {
    this.afterPass.push(fn);
  }

  pass(): void {
    if (this.gate && !this.gate()) return;
    this.passes++;
    for (const c of this.hosts.values()) if (!c.held) dispatch(c);
    for (const fn of this.afterPass) fn();
  }

  start(): void {
    if (this.timer) return;
    this.timer = this.clock.setInterval(() => this.pass(), this.tickMs);
  }

  stop(): void {
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }
}
