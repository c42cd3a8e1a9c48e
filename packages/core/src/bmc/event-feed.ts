import type { BmcError, BmcEvent, EventSource, EventSubscription } from "../plugin-api/bmc.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";

export interface EventFeedOptions {
  hostname: string;
  source: EventSource;
  clock: Clock;
  logger?: Logger;
  /** Wait before subscribing again after a loss or a failed attempt (doubles up to 16×). Default 5 s. */
  resubscribeMs?: number;
}

type Listener = (e: BmcEvent) => void;

/**
 * One host's BMC event subscription, shared by hwmon and the power audit (issue 15 item 13). It subscribes,
 * hands every event to its listeners, and when the subscription is lost (a BMC reset drops it) subscribes again
 * with backoff and tells `onResubscribed` listeners, who reconcile with one poll since events may have been
 * missed meanwhile. A BMC without an event service (code unsupported) ends the feed: callers keep polling.
 */
export class EventFeed {
  private sub: EventSubscription | undefined;
  private timer: TimerHandle | undefined;
  private stopped = true;
  private failures = 0;
  private readonly listeners = new Set<Listener>();
  private readonly resubscribed = new Set<() => void>();
  /** True while a subscription is live: callers may poll at their slower, reconciling rate. */
  subscribed = false;
  /** The feed gave up: the BMC has no event service. */
  unsupported = false;
  readonly stats = { subscriptions: 0, losses: 0, events: 0 };

  constructor(private readonly o: EventFeedOptions) {}

  onEvent(l: Listener): void {
    this.listeners.add(l);
  }

  /** Called after every subscription that follows a loss (or the first one), to reconcile by polling. */
  onResubscribed(l: () => void): void {
    this.resubscribed.add(l);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.subscribe();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.subscribed = false;
    const s = this.sub;
    this.sub = undefined;
    await s?.close().catch(() => {});
  }

  private async subscribe(): Promise<void> {
    if (this.stopped) return;
    try {
      const sub = await this.o.source.subscribe(
        (e) => {
          this.stats.events++;
          for (const l of this.listeners) l(e);
        },
        (why) => this.lost(why),
      );
      if (this.stopped) {
        await sub.close();
        return;
      }
      this.sub = sub;
      this.subscribed = true;
      this.failures = 0;
      this.stats.subscriptions++;
      for (const l of this.resubscribed) l();
    } catch (err) {
      if ((err as BmcError).code === "unsupported") {
        this.unsupported = true;
        this.o.logger?.info({ host: this.o.hostname, err: (err as Error).message }, "BMC has no event service; polling only");
        return;
      }
      this.failures++;
      this.o.logger?.warn({ host: this.o.hostname, err: (err as Error).message }, "BMC event subscription failed; polling until it succeeds");
      this.retryLater();
    }
  }

  private lost(why: string): void {
    if (this.stopped) return;
    this.subscribed = false;
    this.sub = undefined;
    this.stats.losses++;
    this.o.logger?.warn({ host: this.o.hostname, why }, "BMC event subscription lost; subscribing again");
    this.retryLater();
  }

  private retryLater(): void {
    const base = this.o.resubscribeMs ?? 5_000;
    const delay = base * 2 ** Math.min(4, Math.max(0, this.failures - 1));
    this.o.clock.clearTimeout(this.timer);
    this.timer = this.o.clock.setTimeout(() => void this.subscribe(), delay);
  }
}
