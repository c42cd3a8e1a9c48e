import { EventEmitter } from "node:events";
import { hostname as osHostname } from "node:os";
import type { Clock, Logger, TimerHandle } from "@metal/core/plugin-api";
import { MessageChannel } from "../channel/message-channel.js";
import { type CorrectiveAction, type EventType, type NotificationType, type Received, random31 } from "../channel/messages.js";
import { type ActionHandler, collectVotes, scriptHandler } from "./actions.js";
import { type DeviceHandlers, type DeviceLink, openDevice } from "./device.js";
import { HealthDamper, type HealthReport, mergeAction, runHealthScript } from "./health.js";

/** GUEST_HEARTBEAT_PROPAGATION_DELAY_IN_SECS: added to every timeout the guest announces. */
const PROPAGATION_DELAY_S = 1;
/** guest_timer_scheduling_on_time_within: a timer later than this was not this process's fault to miss. */
const SCHEDULING_SLACK_MS = 1000;

export interface GuestClientOptions {
  /** /dev/virtio-ports/cgcs.heartbeat in a VM; a pty or UNIX socket path in tests. */
  device: string;
  clock: Clock;
  logger: Logger;
  name?: string;
  intervalMs?: number;
  voteSecs?: number;
  shutdownSecs?: number;
  suspendSecs?: number;
  resumeSecs?: number;
  restartSecs?: number;
  correctiveAction?: "reboot" | "stop" | "log";
  initRetryMs?: number;
  minChallengeTimeoutMs?: number;
  healthCheckScript?: string;
  healthCheckIntervalS?: number;
  eventScript?: string;
  /** How long to wait before re-opening a device that is missing or hung up. */
  reopenMs?: number;
  /** Replace how the device is opened (tests). */
  open?: (path: string, handlers: DeviceHandlers) => Promise<DeviceLink>;
}

export type ClientState = "initial" | "enabling" | "enabled" | "disabled";

/** An application's health: consulted on every challenge. */
export type HealthProvider = () => { healthy: boolean; action?: CorrectiveAction; log?: string };

/**
 * The in-guest heartbeat client (reference A.15): initial -> enabling (init every 5 s until init_ack)
 * -> enabled (echo each challenge with health; back to enabling when challenges stop) ; disabled while
 * the channel is down. Applications embed it to add health and to vote on events.
 *
 * Events: "state" (ClientState), "challenge" (value), "action" ({event, notification, vote}).
 */
export class GuestClient extends EventEmitter {
  state: ClientState = "initial";
  private link: DeviceLink | undefined;
  private channel: MessageChannel | undefined;
  private invocationId = 0;
  private previousInvocationId = 0;
  private initTimer: TimerHandle | undefined;
  private challengeTimer: TimerHandle | undefined;
  private healthTimer: TimerHandle | undefined;
  private reopenTimer: TimerHandle | undefined;
  private scriptHealth: { healthy: boolean; log: string } = { healthy: true, log: "" };
  private readonly damper = new HealthDamper();
  private readonly healthProviders: HealthProvider[] = [];
  private readonly actionHandlers: ActionHandler[] = [];
  private abortAction: (() => void) | undefined;
  private stopped = false;
  private readonly o: Required<Omit<GuestClientOptions, "healthCheckScript" | "eventScript" | "open">> &
    Pick<GuestClientOptions, "healthCheckScript" | "eventScript">;
  private readonly openFn: (path: string, handlers: DeviceHandlers) => Promise<DeviceLink>;

  constructor(options: GuestClientOptions) {
    super();
    this.o = {
      name: osHostname().slice(0, 64),
      intervalMs: 1000,
      voteSecs: 10,
      shutdownSecs: 10,
      suspendSecs: 10,
      resumeSecs: 10,
      restartSecs: 120,
      correctiveAction: "reboot",
      initRetryMs: 5000,
      minChallengeTimeoutMs: 5000,
      healthCheckIntervalS: 30,
      reopenMs: 1000,
      ...options,
    };
    this.openFn = options.open ?? openDevice;
    if (options.eventScript) this.actionHandlers.push(scriptHandler(options.eventScript));
  }

  /** Add an application's health check. */
  addHealthProvider(p: HealthProvider): void {
    this.healthProviders.push(p);
  }

  /** Add an application that votes on / is told about events. */
  addActionHandler(h: ActionHandler): void {
    this.actionHandlers.push(h);
  }

  async start(): Promise<void> {
    this.stopped = false;
    // The first health check runs alongside the channel start: a slow script must not delay init.
    if (this.o.healthCheckScript) void this.checkHealth();
    await this.openChannel();
  }

  /** Shutdown: a graceful `exit` so the host raises no loss, then close. */
  async stop(reason = "guest-client shutting down"): Promise<void> {
    this.stopped = true;
    if (this.state === "enabled") this.channel?.send({ msg_type: "exit", log_msg: reason });
    for (const t of [this.initTimer, this.challengeTimer, this.healthTimer, this.reopenTimer]) this.o.clock.clearTimeout(t);
    this.abortAction?.();
    // Give the exit a moment to leave before the device closes.
    await new Promise((r) => setTimeout(r, 50));
    this.link?.close();
    this.link = undefined;
    this.setState("initial");
  }

  private setState(s: ClientState): void {
    if (this.state === s) return;
    this.o.logger.info({ from: this.state, to: s }, "guest heartbeat state");
    this.state = s;
    this.emit("state", s);
  }

  // ---- channel ---------------------------------------------------------------------------------

  private async openChannel(): Promise<void> {
    if (this.stopped) return;
    try {
      this.link = await this.openFn(this.o.device, {
        data: (c) => this.channel?.feed(c),
        closed: (reason) => this.channelDown(reason),
      });
    } catch (err) {
      this.o.logger.warn({ device: this.o.device, err: (err as Error).message }, "cannot open the heartbeat device; retrying");
      this.setState("disabled");
      this.reopenTimer = this.o.clock.setTimeout(() => void this.openChannel(), this.o.reopenMs);
      return;
    }
    this.channel = new MessageChannel((f) => this.link?.write(f), {
      message: (m) => this.onMessage(m),
      invalid: (reason) => this.o.logger.warn({ reason }, "bad message from the host"),
    });
    this.enterEnabling();
  }

  private channelDown(reason: string): void {
    this.o.logger.warn({ reason }, "heartbeat channel down");
    this.link = undefined;
    this.channel = undefined;
    this.o.clock.clearTimeout(this.initTimer);
    this.o.clock.clearTimeout(this.challengeTimer);
    this.abortAction?.();
    this.setState("disabled");
    if (!this.stopped) this.reopenTimer = this.o.clock.setTimeout(() => void this.openChannel(), this.o.reopenMs);
  }

  // ---- enabling: init until init_ack -----------------------------------------------------------

  private enterEnabling(): void {
    this.o.clock.clearTimeout(this.challengeTimer);
    this.setState("enabling");
    this.sendInit();
  }

  private sendInit(): void {
    this.o.clock.clearTimeout(this.initTimer);
    if (this.state !== "enabling" || !this.channel) return;
    this.previousInvocationId = this.invocationId;
    this.invocationId = random31();
    const d = PROPAGATION_DELAY_S;
    this.channel.send({
      msg_type: "init",
      invocation_id: this.invocationId,
      name: this.o.name,
      heartbeat_interval_ms: this.o.intervalMs,
      vote_secs: this.o.voteSecs + d,
      shutdown_notice_secs: this.o.shutdownSecs + d,
      suspend_notice_secs: this.o.suspendSecs + d,
      resume_notice_secs: this.o.resumeSecs + d,
      restart_secs: this.o.restartSecs + d,
      corrective_action: this.o.correctiveAction,
    });
    this.initTimer = this.o.clock.setTimeout(() => this.sendInit(), this.o.initRetryMs);
  }

  // ---- enabled ---------------------------------------------------------------------------------

  private onMessage(m: Received): void {
    switch (m.msg_type) {
      case "init_ack":
        if (this.state === "enabling" && (m.invocation_id === this.invocationId || m.invocation_id === this.previousInvocationId)) {
          this.invocationId = m.invocation_id;
          this.o.clock.clearTimeout(this.initTimer);
          this.setState("enabled");
          this.armChallengeTimeout();
          this.armHealthCheck();
        }
        return;
      case "challenge":
        if (this.state !== "enabled") return;
        this.armChallengeTimeout();
        this.answerChallenge(m.heartbeat_challenge);
        return;
      case "action_notify":
        if (this.state === "enabled") this.onActionNotify(m.event_type, m.notification_type, m.timeout_ms);
        return;
      case "nack":
        this.o.logger.warn({ log: m.log_msg }, "host sent nack");
        return;
      default:
        this.o.logger.warn({ type: m.msg_type }, "unexpected message from the host");
    }
  }

  /** Challenges stopped for max(2 intervals, 5 s): the host lost us; start over with init. */
  private armChallengeTimeout(): void {
    this.o.clock.clearTimeout(this.challengeTimer);
    const ms = Math.max(2 * this.o.intervalMs, this.o.minChallengeTimeoutMs);
    const due = this.o.clock.now() + ms;
    this.challengeTimer = this.o.clock.setTimeout(() => {
      // A timer that fires well past its time means this VM was not running (paused, migrated): the
      // host saw the same gap, so wait one more period for a challenge before starting over.
      if (this.o.clock.now() - due > SCHEDULING_SLACK_MS) {
        this.o.logger.info({ lateMs: this.o.clock.now() - due }, "challenge timer fired late; this guest was not scheduled");
        this.armChallengeTimeout();
        return;
      }
      this.o.logger.warn({ ms }, "no challenge from the host; re-initialising");
      this.enterEnabling();
    }, ms);
  }

  private answerChallenge(value: number): void {
    const report = this.damper.apply(this.currentHealth(), this.o.clock.now());
    this.channel?.send({
      msg_type: "challenge_response",
      heartbeat_response: value,
      heartbeat_health: report.health,
      corrective_action: report.action,
      log_msg: report.log,
    });
    this.emit("challenge", value);
  }

  /** The apps' health merged with the script's last result. */
  private currentHealth(): HealthReport {
    let healthy = this.scriptHealth.healthy;
    let action: CorrectiveAction = healthy ? "none" : this.o.correctiveAction;
    const logs = healthy ? [] : [this.scriptHealth.log];
    for (const p of this.healthProviders) {
      const h = p();
      if (h.healthy) continue;
      healthy = false;
      action = mergeAction(action, h.action ?? this.o.correctiveAction);
      if (h.log) logs.push(h.log);
    }
    return healthy ? { health: "healthy", action: "none", log: "" } : { health: "unhealthy", action, log: logs.filter(Boolean).join("; ").slice(0, 224) };
  }

  private armHealthCheck(): void {
    if (!this.o.healthCheckScript) return;
    this.o.clock.clearTimeout(this.healthTimer);
    this.healthTimer = this.o.clock.setTimeout(() => {
      void this.checkHealth().finally(() => {
        if (!this.stopped) this.armHealthCheck();
      });
    }, this.o.healthCheckIntervalS * 1000);
  }

  private async checkHealth(): Promise<void> {
    const script = this.o.healthCheckScript;
    if (!script) return;
    try {
      this.scriptHealth = await runHealthScript(script, Math.max(1000, this.o.healthCheckIntervalS * 1000));
    } catch (err) {
      this.scriptHealth = { healthy: false, log: `health check could not run: ${(err as Error).message}`.slice(0, 224) };
    }
  }

  // ---- vote and notify -------------------------------------------------------------------------

  private onActionNotify(event: EventType, notification: NotificationType, timeoutMs: number): void {
    // A new action aborts the one in flight.
    this.abortAction?.();
    const invocation = this.invocationId;
    // Answer a second ahead of the host's deadline so the answer arrives in time.
    const budget = timeoutMs > 1000 ? timeoutMs - 1000 : timeoutMs;
    const { outcome, abort } = collectVotes(this.actionHandlers, event, notification, (onExpiry) => {
      const t = this.o.clock.setTimeout(onExpiry, budget);
      return () => this.o.clock.clearTimeout(t);
    });
    this.abortAction = abort;
    void outcome.then((result) => {
      if (this.abortAction === abort) this.abortAction = undefined;
      if (!result) return;
      const { vote, reason } = result;
      if (invocation !== this.invocationId || this.state !== "enabled") return;
      this.o.logger.info({ event, notification, vote, reason }, "answering the host's action");
      this.channel?.send({
        msg_type: "action_response",
        invocation_id: invocation,
        event_type: event,
        notification_type: notification,
        vote_result: vote,
        log_msg: reason.slice(0, 224),
      });
      this.emit("action", { event, notification, vote });
    });
  }
}
