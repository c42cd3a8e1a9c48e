import type { AlarmManager } from "../alarms/alarm-manager.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import type { HostMessage } from "./ports.js";

export const PXEBOOT_ALARM_ID = "200.003";
export const PXEBOOT_ALARM_TEXT = "pxeboot network communication failure";

export interface PxebootMonitorSettings {
  periodMs: number;
  /** Misses that make one loss (PXEBOOT_MTCALIVE_LOSS_THRESHOLD = 6). */
  lossThreshold: number;
  /** Losses that raise 200.003 (PXEBOOT_MTCALIVE_LOSS_ALARM_THRESHOLD = 2). */
  alarmThreshold: number;
}

interface Watched {
  /** The newest pxeboot sequence the inbox saw, and the one the last check saved. */
  latest: number;
  saved: number;
  misses: number;
  losses: number;
  lost: boolean;
  alarmed: boolean;
  checks: number;
}

/**
 * The pxeboot mtcAlive monitor (reference §4, `pxeboot_mtcAlive_monitor`): every period compare each watched
 * host's pxeboot sequence to the one saved last time. An increase pays back one miss, and at zero misses the
 * alarm clears. No increase (or a decrease: the client restarted) is a miss and re-sends the pxeboot mtcAlive
 * request. `lossThreshold` misses in a row make one loss; `alarmThreshold` losses raise 200.003 minor.
 * Maintenance decides which hosts are watched (unlocked-enabled, not in unlock/enable/recovery/powercycle);
 * unwatching a host (e.g. it was locked) clears its alarm.
 */
export class PxebootMonitor {
  private readonly watched = new Map<string, Watched>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly settings: PxebootMonitorSettings,
    private readonly clock: Clock,
    private readonly alarms: AlarmManager,
    private readonly log: Logger,
    private readonly requestMtcAlive: (hostname: string) => void,
    private readonly emit: (m: HostMessage) => void,
    /** Only hosts whose client advertised `pxeboot_mtcAlive` (and a provisioned pxeboot network) are checked. */
    private readonly eligible: (hostname: string) => boolean = () => true,
  ) {}

  start(): void {
    this.timer ??= this.clock.setInterval(() => this.check(), this.settings.periodMs);
  }

  stop(): void {
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  watch(hostname: string): void {
    if (this.watched.has(hostname)) return;
    this.watched.set(hostname, { latest: 0, saved: 0, misses: 0, losses: 0, lost: false, alarmed: false, checks: 0 });
  }

  unwatch(hostname: string): void {
    const w = this.watched.get(hostname);
    this.watched.delete(hostname);
    if (w?.alarmed) this.alarms.clear(PXEBOOT_ALARM_ID, hostname);
  }

  isWatched(hostname: string): boolean {
    return this.watched.has(hostname);
  }

  /** The inbox saw a pxeboot mtcAlive with this sequence. */
  seen(hostname: string, sequence: number): void {
    const w = this.watched.get(hostname);
    if (w) w.latest = sequence;
  }

  state(hostname: string): Readonly<Watched> | undefined {
    return this.watched.get(hostname);
  }

  /** One monitor pass over every watched host (public so tests can step it). */
  check(): void {
    for (const [hostname, w] of this.watched) if (this.eligible(hostname)) this.checkHost(hostname, w);
  }

  private checkHost(hostname: string, w: Watched): void {
    w.checks++;
    const increased = w.latest > w.saved;
    w.saved = w.latest;
    if (increased) {
      if (w.misses > 0) w.misses--;
      if (w.misses === 0 && (w.lost || w.alarmed || w.losses > 0)) {
        w.losses = 0;
        if (w.alarmed) {
          w.alarmed = false;
          this.alarms.clear(PXEBOOT_ALARM_ID, hostname);
          this.log.info({ host: hostname }, "pxeboot mtcAlive recovered; 200.003 cleared");
        }
        if (w.lost) {
          w.lost = false;
          this.emit({ kind: "pxebootRecovered", hostname });
        }
      }
      return;
    }
    w.misses++;
    this.requestMtcAlive(hostname);
    // Logs are throttled to every 60 cycles, as the reference does.
    if (w.misses === 1 || w.checks % 60 === 0) this.log.info({ host: hostname, misses: w.misses, losses: w.losses }, "pxeboot mtcAlive miss");
    if (w.misses < this.settings.lossThreshold) return;
    w.misses = 0;
    w.losses++;
    if (!w.lost) {
      w.lost = true;
      this.emit({ kind: "pxebootLoss", hostname });
    }
    if (w.losses >= this.settings.alarmThreshold && !w.alarmed) {
      w.alarmed = true;
      this.alarms.raise({ id: PXEBOOT_ALARM_ID, hostname, severity: "minor", text: `${hostname} ${PXEBOOT_ALARM_TEXT}` });
      this.log.warn({ host: hostname, losses: w.losses }, "pxeboot mtcAlive loss; 200.003 raised");
    }
  }
}
