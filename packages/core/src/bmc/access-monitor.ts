import type { AlarmManager } from "../alarms/alarm-manager.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import type { EventFeed } from "./event-feed.js";

export const BMC_ACCESS_ALARM = "200.010";

export interface AccessMonitorOptions {
  hostname: string;
  /** One cheap BMC call (power status through the broker); resolves when the BMC answered. */
  probe: () => Promise<unknown>;
  clock: Clock;
  alarms: AlarmManager;
  logger?: Logger;
  probeIntervalMs: number;
  /** Inaccessible this long → 200.010 warning (reference: 2 minutes). */
  alarmDelayMs: number;
  /**
   * The host's BMC event feed (issue 15 item 13), owned here (started and stopped with the monitor): a power
   * event probes at once, and while the subscription is live the periodic probe runs only every
   * `reconcileIntervalMs` (default 10 × probeIntervalMs); a re-subscription probes to reconcile.
   */
  events?: EventFeed;
  reconcileIntervalMs?: number;
}

/**
 * The BMC access monitor (reference §6.1): probes the BMC periodically; when it stops answering, a timer
 * starts, and if the BMC is still inaccessible when it fires, alarm 200.010 (warning) is raised. Any
 * successful access cancels the timer and clears the alarm.
 */
export class BmcAccessMonitor {
  private accessible: boolean | undefined;
  private alarmTimer: TimerHandle | undefined;
  private interval: TimerHandle | undefined;
  private probing = false;
  /** stop() was called: a probe still in flight then changes nothing (a stopping agent raises no alarm from it). */
  private stopped = false;
  private alarmed = false;
  private lastProbeAt = Number.NEGATIVE_INFINITY;
  /** Probes run, by cause. */
  readonly probes = { poll: 0, event: 0 };
  lastError: string | undefined;

  constructor(private readonly o: AccessMonitorOptions) {}

  get isAccessible(): boolean | undefined {
    return this.accessible;
  }

  get alarmRaised(): boolean {
    return this.alarmed;
  }

  start(): void {
    if (this.interval) return;
    this.stopped = false;
    const feed = this.o.events;
    if (feed) {
      feed.onEvent((e) => {
        if (e.kind === "power") this.probeFor("event");
      });
      feed.onResubscribed(() => this.probeFor("event"));
      feed.start();
    }
    this.probeFor("poll");
    this.interval = this.o.clock.setInterval(() => {
      const reconcile = this.o.reconcileIntervalMs ?? this.o.probeIntervalMs * 10;
      if (feed?.subscribed && this.o.clock.now() - this.lastProbeAt < reconcile) return;
      this.probeFor("poll");
    }, this.o.probeIntervalMs);
  }

  private probeFor(cause: "poll" | "event"): void {
    this.probes[cause]++;
    this.lastProbeAt = this.o.clock.now();
    void this.probeOnce();
  }

  stop(): void {
    this.stopped = true;
    void this.o.events?.stop();
    this.o.clock.clearInterval(this.interval);
    this.o.clock.clearTimeout(this.alarmTimer);
    this.interval = undefined;
    this.alarmTimer = undefined;
  }

  /** One probe; also callable by users of the BMC to report an access result they already have. */
  async probeOnce(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await this.o.probe();
      if (!this.stopped) this.report(true);
    } catch (err) {
      if (!this.stopped) this.report(false, (err as Error).message);
    } finally {
      this.probing = false;
    }
  }

  report(ok: boolean, error?: string): void {
    if (ok) {
      this.o.clock.clearTimeout(this.alarmTimer);
      this.alarmTimer = undefined;
      if (this.accessible === false) this.o.logger?.info({ host: this.o.hostname }, "BMC accessible again");
      this.accessible = true;
      this.lastError = undefined;
      if (this.alarmed) {
        this.alarmed = false;
        this.o.alarms.clear(BMC_ACCESS_ALARM, this.o.hostname);
      }
      return;
    }
    this.lastError = error;
    if (this.accessible !== false) this.o.logger?.warn({ host: this.o.hostname, err: error }, "BMC inaccessible");
    this.accessible = false;
    if (this.alarmTimer || this.alarmed) return;
    this.alarmTimer = this.o.clock.setTimeout(() => {
      this.alarmTimer = undefined;
      if (this.accessible !== false) return;
      this.alarmed = true;
      this.o.alarms.raise({
        id: BMC_ACCESS_ALARM,
        hostname: this.o.hostname,
        severity: "warning",
        text: `${this.o.hostname} access to board management module has failed${this.lastError ? ` (${this.lastError})` : ""}`,
      });
    }, this.o.alarmDelayMs);
  }
}
