import type { TimerHandle } from "@metal/core/plugin-api";
import { actionTimeoutMs, DEFAULT_GUEST_TIMEOUTS, type GuestTimeouts } from "../action-timeouts.js";
import { MessageChannel } from "../channel/message-channel.js";
import { type CorrectiveAction, type EventType, type NotificationType, type Received, random31, type VoteResult } from "../channel/messages.js";
import { GuestEvent } from "../udp/codes.js";
import type { InstInfo } from "../udp/inst-info.js";
import type { ChannelLink, InstanceContext } from "./ports.js";

/** hbState (reference A.7): only the server_* values of hb_state_t are used by guestServer. */
export type HbState = "waiting_init" | "waiting_response" | "waiting_challenge";

/** Events after whose irrevocable notification the guest is expected to go quiet (reboot, pause, ...). */
const OUTAGE_EVENTS: ReadonlySet<string> = new Set(["stop", "reboot", "pause", "suspend", "live_migrate_begin", "cold_migrate_begin"]);
/** After these, the original forces waiting_init after WAIT_FOR_INIT_TIMEOUT (60 s). */
const WAIT_FOR_INIT_EVENTS: ReadonlySet<string> = new Set(["suspend", "live_migrate_begin", "cold_migrate_begin", "reboot"]);

const NACKS_PER_SECOND = 20;

interface PendingAction {
  event: EventType | string;
  notification: NotificationType;
}

/**
 * One VM seen by guestServer: the connect stage machine (START -> WAIT -> DONE with 1 s..60 s backoff),
 * the heartbeat monitor (init -> init_ack -> challenge every interval, loss on the 2nd consecutive miss)
 * and the vote/notify exchange (reference A.7-A.9). Every timer goes through the injected clock.
 */
export class GuestInstance {
  channelPath: string | undefined;
  /** Instance-level reporting, set by guestAgent (ADD_INST / MOD_INST). */
  reporting = false;
  heartbeating = false;
  failed = false;
  hbState: HbState = "waiting_init";
  b2bMisses = 0;
  failures = 0;
  intervalMs = 1000;
  timeouts: GuestTimeouts = { ...DEFAULT_GUEST_TIMEOUTS };
  correctiveAction: CorrectiveAction = "log";
  unhealthyAction: CorrectiveAction = "unknown";
  invocationId = 0;
  name = "";
  connectWaitS = 1;
  connecting = false;

  private link: ChannelLink | undefined;
  private channel: MessageChannel | undefined;
  private challenge = 0;
  private pending: PendingAction | undefined;
  /** Set after an irrevocable reboot/stop/pause/suspend/migrate: misses then end quietly, not as a loss. */
  private outageExpected = false;
  private destroyed = false;
  private nackSecond = 0;
  private nacksThisSecond = 0;
  private connectTimer: TimerHandle | undefined;
  private monitorTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private voteTimer: TimerHandle | undefined;
  private initTimer: TimerHandle | undefined;

  constructor(
    readonly uuid: string,
    private readonly ctx: InstanceContext,
  ) {}

  get connected(): boolean {
    return this.link !== undefined;
  }

  /** inst-info as guestAgent expects it (A.11). */
  info(): InstInfo {
    const t = this.timeouts;
    return {
      hostname: this.ctx.hostname,
      uuid: this.uuid,
      reporting: this.reporting ? "enabled" : "disabled",
      heartbeating: this.heartbeating ? "enabled" : "disabled",
      "repair-action": this.correctiveAction,
      "restart-to": String(t.restart),
      "shutdown-to": String(t.shutdown),
      "suspend-to": String(t.suspend),
      "resume-to": String(t.resume),
      "vote-to": String(t.vote),
    };
  }

  // ---- connect stage machine -------------------------------------------------------------------

  /** Attach the channel file and (re)connect: virtio_channel_add + reconnect_start. */
  attach(path: string): void {
    if (this.channelPath !== path) this.closeLink("channel re-attached");
    this.channelPath = path;
    this.startConnect();
  }

  /** INST_CONNECT__START: wait connect_wait seconds, then try. */
  startConnect(): void {
    if (this.destroyed || this.link || this.connecting || !this.channelPath) return;
    this.connecting = true;
    this.connectTimer = this.ctx.clock.setTimeout(() => this.tryConnect(), this.connectWaitS * 1000);
  }

  private tryConnect(): void {
    this.connectTimer = undefined;
    const path = this.channelPath;
    if (this.destroyed || !path) {
      this.connecting = false;
      return;
    }
    if (!this.ctx.socketExists(path)) {
      this.retryConnect("channel socket not there");
      return;
    }
    this.ctx.connector
      .connect(path, {
        data: (chunk) => this.channel?.feed(chunk),
        closed: (reason) => this.onLinkClosed(reason),
      })
      .then(
        (link) => {
          if (this.destroyed || this.channelPath !== path) {
            link.close();
            return;
          }
          this.onConnected(link);
        },
        (err: NodeJS.ErrnoException) => this.retryConnect(`connect failed: ${err.code ?? err.message}`),
      );
  }

  private retryConnect(reason: string): void {
    this.connecting = false;
    this.ctx.log.debug({ uuid: this.uuid, reason, waitS: this.connectWaitS }, "guest channel connect retry");
    // manage_reconnect_timeout: double after each failure, capped at connectMaxSeconds (60).
    this.connectWaitS = Math.min(this.connectWaitS * 2, this.ctx.timers.connectMaxSeconds);
    this.startConnect();
  }

  /** INST_CONNECT__DONE. */
  private onConnected(link: ChannelLink): void {
    this.connecting = false;
    this.link = link;
    this.channel = new MessageChannel((frame) => this.link?.write(frame), {
      message: (msg) => this.onMessage(msg),
      invalid: (reason, msgType) => this.onInvalid(reason, msgType),
    });
    this.failed = false;
    this.b2bMisses = 0;
    this.hbState = "waiting_init";
    this.connectWaitS = 1;
    this.ctx.log.info({ uuid: this.uuid, path: this.channelPath }, "guest channel connected");
    this.armReconnectAudit();
  }

  /** HEARTBEAT_START_TIMEOUT: if heartbeating never starts on this connection, reconnect; re-armed each time. */
  private armReconnectAudit(): void {
    this.ctx.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.ctx.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.destroyed) return;
      if (!this.heartbeating && !this.connecting) {
        this.ctx.log.info({ uuid: this.uuid }, "no heartbeat since connect; reconnecting the channel");
        this.closeLink("heartbeat start timeout");
        this.startConnect();
      }
      this.armReconnectAudit();
    }, this.ctx.timers.heartbeatStartSeconds * 1000);
  }

  private onLinkClosed(reason: string): void {
    if (!this.link) return;
    this.ctx.log.info({ uuid: this.uuid, reason }, "guest channel closed");
    this.link = undefined;
    this.channel = undefined;
    this.toWaitingInit();
    this.setHeartbeating(false);
    this.startConnect();
  }

  private closeLink(reason: string): void {
    const link = this.link;
    this.link = undefined;
    this.channel = undefined;
    if (link) {
      this.ctx.log.debug({ uuid: this.uuid, reason }, "closing guest channel");
      link.close();
    }
    this.toWaitingInit();
  }

  /** Stop every timer and close the channel: del_inst. */
  destroy(): void {
    this.destroyed = true;
    for (const t of [this.connectTimer, this.monitorTimer, this.reconnectTimer, this.voteTimer, this.initTimer]) this.ctx.clock.clearTimeout(t);
    this.connecting = false;
    this.closeLink("instance removed");
  }

  // ---- reporting -----------------------------------------------------------------------------

  /** ADD_INST / MOD_INST. Disabling reporting stops heartbeating (STOPPED) and waits for the next init. */
  setReporting(enabled: boolean): void {
    this.reporting = enabled;
    if (!enabled) {
      this.setHeartbeating(false);
      this.toWaitingInit();
    }
  }

  private setHeartbeating(on: boolean): void {
    if (this.heartbeating === on) return;
    this.heartbeating = on;
    const code = on ? GuestEvent.MTC_EVENT_HEARTBEAT_RUNNING : GuestEvent.MTC_EVENT_HEARTBEAT_STOPPED;
    this.ctx.report(code, { ...this.info() });
  }

  // ---- channel messages ------------------------------------------------------------------------

  private send(msg: Parameters<MessageChannel["send"]>[0]): void {
    this.channel?.send(msg);
  }

  private onInvalid(reason: string, msgType?: string): void {
    // One log line per instance per window, whatever the guest sends.
    this.ctx.badInput(`${this.uuid}:invalid`, { uuid: this.uuid, msgType, reason }, "guest message refused");
    // A guest streaming garbage gets at most NACKS_PER_SECOND answers, not an echo of its flood.
    const second = Math.floor(this.ctx.clock.now() / 1000);
    if (second !== this.nackSecond) {
      this.nackSecond = second;
      this.nacksThisSecond = 0;
    }
    if (++this.nacksThisSecond > NACKS_PER_SECOND) return;
    this.send({ msg_type: "nack", invocation_id: this.invocationId, log_msg: reason });
  }

  private onMessage(msg: Received): void {
    switch (msg.msg_type) {
      case "init":
        this.onInit(msg);
        return;
      case "challenge_response":
        this.onChallengeResponse(msg);
        return;
      case "action_response":
        this.onActionResponse(msg);
        return;
      case "exit":
        this.ctx.log.info({ uuid: this.uuid, log: msg.log_msg }, "guest exit");
        this.toWaitingInit();
        this.setHeartbeating(false);
        return;
      case "nack":
        this.ctx.badInput(`${this.uuid}:nack`, { uuid: this.uuid, log: msg.log_msg }, "guest sent nack");
        return;
      default:
        this.onInvalid(`unsupported message type: ${msg.msg_type}`, msg.msg_type);
    }
  }

  private onInit(msg: Extract<Received, { msg_type: "init" }>): void {
    if (this.hbState !== "waiting_init") {
      // QUIRK fixed (A.16): the original dropped an init outside waiting_init and waited ~5 s for the
      // guest's retry. A guest that re-inits has restarted; take its init now.
      this.ctx.log.info({ uuid: this.uuid }, "init while heartbeating: guest restarted");
      this.toWaitingInit();
    }
    this.invocationId = msg.invocation_id;
    this.name = msg.name;
    this.intervalMs = Math.max(this.ctx.timers.minIntervalMs, msg.heartbeat_interval_ms);
    this.timeouts = {
      vote: msg.vote_secs,
      shutdown: msg.shutdown_notice_secs,
      suspend: msg.suspend_notice_secs,
      resume: msg.resume_notice_secs,
      restart: msg.restart_secs,
    };
    this.correctiveAction = msg.corrective_action;
    this.unhealthyAction = "unknown";
    this.outageExpected = false;
    this.ctx.clock.clearTimeout(this.initTimer);
    this.initTimer = undefined;
    this.send({ msg_type: "init_ack", invocation_id: msg.invocation_id });
    this.failed = false;
    this.b2bMisses = 0;
    this.sendChallenge(true);
    this.armMonitor();
  }

  private onChallengeResponse(msg: Extract<Received, { msg_type: "challenge_response" }>): void {
    if (this.hbState !== "waiting_response") return; // a late response; the next challenge is on its way
    if (msg.heartbeat_response !== this.challenge) {
      // Decided (A.16): a wrong echo is logged and counts as a miss when the interval expires.
      this.ctx.badInput(`${this.uuid}:mismatch`, { uuid: this.uuid, got: msg.heartbeat_response, want: this.challenge }, "challenge response mismatch");
      return;
    }
    this.hbState = "waiting_challenge";
    this.b2bMisses = 0;
    this.failed = false;
    // Decided: an unhealthy answer still proves the guest is alive, so heartbeating starts either way.
    this.setHeartbeating(true);
    if (msg.heartbeat_health === "unhealthy") {
      this.unhealthyAction = msg.corrective_action;
      if (msg.corrective_action !== "none" && msg.corrective_action !== "unknown") {
        this.ctx.log.warn({ uuid: this.uuid, action: msg.corrective_action, log: msg.log_msg }, "guest reports unhealthy");
        this.ctx.report(GuestEvent.MTC_EVENT_HEARTBEAT_ILLHEALTH, { ...this.info(), "repair-action": msg.corrective_action });
      }
    }
  }

  // ---- monitor ---------------------------------------------------------------------------------

  private sendChallenge(fresh: boolean): void {
    if (fresh) this.challenge = random31();
    this.hbState = "waiting_response";
    this.send({ msg_type: "challenge", heartbeat_challenge: this.challenge });
  }

  /**
   * QUIRK fixed (A.16): the original left the monitor timer un-armed in waiting_init, so challenges only
   * restarted via init or the 120 s reconnect. Here the monitor runs from each init until waiting_init.
   */
  private armMonitor(): void {
    this.ctx.clock.clearTimeout(this.monitorTimer);
    this.monitorTimer = this.ctx.clock.setTimeout(() => this.onMonitorTick(), this.intervalMs);
  }

  private onMonitorTick(): void {
    this.monitorTimer = undefined;
    if (this.destroyed || !this.link) return;
    switch (this.hbState) {
      case "waiting_init":
        this.b2bMisses = 0;
        return;
      case "waiting_challenge":
        this.b2bMisses = 0;
        this.sendChallenge(true);
        break;
      case "waiting_response":
        if (++this.b2bMisses > this.ctx.timers.failureThreshold) {
          this.onLoss();
          return;
        }
        this.ctx.log.info({ uuid: this.uuid, misses: this.b2bMisses }, "guest heartbeat miss");
        // Resend the same value: a late echo of it still proves the guest alive.
        this.sendChallenge(false);
        break;
    }
    this.armMonitor();
  }

  private onLoss(): void {
    this.failed = true;
    this.toWaitingInit();
    this.setHeartbeating(false);
    if (this.outageExpected) {
      this.ctx.log.info({ uuid: this.uuid }, "guest went quiet after an announced action; no loss raised");
      return;
    }
    if (this.ctx.hostReporting() && this.reporting) {
      this.failures++;
      this.ctx.log.error({ uuid: this.uuid, action: this.correctiveAction }, "guest heartbeat loss");
      this.ctx.report(GuestEvent.MTC_EVENT_HEARTBEAT_LOSS, { hostname: this.ctx.hostname, uuid: this.uuid });
    } else {
      this.ctx.log.warn({ uuid: this.uuid }, "guest heartbeat loss while reporting is disabled");
    }
  }

  private toWaitingInit(): void {
    this.hbState = "waiting_init";
    this.b2bMisses = 0;
    this.ctx.clock.clearTimeout(this.monitorTimer);
    this.monitorTimer = undefined;
  }

  // ---- vote and notify -------------------------------------------------------------------------

  /** VOTE_INST (revocable) or NOTIFY_INST (irrevocable) from guestAgent. */
  requestAction(event: EventType | string, notification: NotificationType): void {
    if (event === "resume" && (!this.link || !this.heartbeating)) {
      // The guest is coming back: reconnect the channel first, as the original does.
      this.closeLink("resume");
      this.connectWaitS = 1;
      this.startConnect();
    }
    if (!this.link || !this.heartbeating) {
      this.ctx.log.info({ uuid: this.uuid, event, notification }, "not heartbeating; action not sent to the guest");
      return;
    }
    if (this.pending) this.ctx.log.info({ uuid: this.uuid, previous: this.pending.event }, "new action replaces an outstanding one");
    this.ctx.clock.clearTimeout(this.voteTimer);
    const timeoutMs = actionTimeoutMs(event, notification, this.timeouts);
    this.pending = { event, notification };
    this.send({
      msg_type: "action_notify",
      invocation_id: this.invocationId,
      event_type: event as EventType,
      notification_type: notification,
      timeout_ms: timeoutMs,
    });
    this.voteTimer = this.ctx.clock.setTimeout(() => {
      this.voteTimer = undefined;
      // No answer in time counts as agreement (A.7 vote_timer).
      this.finishAction(notification === "revocable" ? "accept" : "complete", "no response from the guest before the timeout");
    }, timeoutMs);
  }

  private onActionResponse(msg: Extract<Received, { msg_type: "action_response" }>): void {
    if (!this.pending) {
      this.ctx.badInput(`${this.uuid}:unsolicited`, { uuid: this.uuid }, "action_response with no action outstanding");
      return;
    }
    if (msg.invocation_id !== this.invocationId) {
      this.onInvalid(`Invocation id mismatch. Received: ${msg.invocation_id} expect: ${this.invocationId}`, msg.msg_type);
      return;
    }
    this.finishAction(msg.vote_result, msg.log_msg);
  }

  private finishAction(vote: VoteResult, reason: string): void {
    const action = this.pending;
    if (!action) return;
    this.pending = undefined;
    this.ctx.clock.clearTimeout(this.voteTimer);
    this.voteTimer = undefined;
    this.ctx.report(GuestEvent.MTC_EVENT_VOTE_NOTIFY, {
      hostname: this.ctx.hostname,
      uuid: this.uuid,
      notification_type: action.notification,
      "event-type": action.event,
      vote,
      reason,
    });
    // Decided: only an irrevocable notification means the action will happen, so only it quiets the
    // heartbeat (the original also did this after votes that may yet be rejected).
    if (action.notification !== "irrevocable" || vote === "reject") return;
    if (OUTAGE_EVENTS.has(action.event)) this.outageExpected = true;
    if (action.event === "pause") this.toWaitingInit();
    if (action.event === "suspend" && vote === "complete") {
      this.closeLink("suspended");
      this.setHeartbeating(false);
    }
    if (WAIT_FOR_INIT_EVENTS.has(action.event)) {
      this.ctx.clock.clearTimeout(this.initTimer);
      this.initTimer = this.ctx.clock.setTimeout(() => {
        this.initTimer = undefined;
        this.toWaitingInit();
      }, this.ctx.timers.waitForInitSeconds * 1000);
    }
  }
}
