import { silentLogger } from "@metal/core/logging/index";
import type { Clock } from "@metal/core/plugin-api";
import { MessageChannel } from "../../src/channel/message-channel.js";
import type { GuestMessage, Received } from "../../src/channel/messages.js";
import type { ChannelConnector, ChannelLink, InstanceContext, LinkHandlers } from "../../src/server/ports.js";
import { guestCodeName } from "../../src/udp/codes.js";

/** A guest on the far end of an in-memory channel; the test decides what it answers. */
export class MemoryGuest {
  readonly received: Received[] = [];
  readonly invalid: string[] = [];
  answering = true;
  health: "healthy" | "unhealthy" = "healthy";
  action: "none" | "reboot" | "stop" | "log" = "none";
  /** What to answer to action_notify; undefined = stay silent. */
  vote: "accept" | "reject" | "complete" | undefined;
  private channel: MessageChannel | undefined;
  private toHost: ((chunk: Buffer) => void) | undefined;

  attach(toHost: (chunk: Buffer) => void): (frame: string) => void {
    this.toHost = toHost;
    this.channel = new MessageChannel((frame) => this.toHost?.(Buffer.from(frame)), {
      message: (m) => this.onMessage(m),
      invalid: (r) => this.invalid.push(r),
    });
    return (frame) => this.channel?.feed(Buffer.from(frame));
  }

  send(msg: GuestMessage): void {
    this.channel?.send(msg);
  }

  raw(bytes: string | Buffer): void {
    this.toHost?.(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  init(intervalMs = 1000, invocation = 77, corrective: "reboot" | "stop" | "log" = "reboot"): void {
    this.send({
      msg_type: "init",
      invocation_id: invocation,
      name: "vm-under-test",
      heartbeat_interval_ms: intervalMs,
      vote_secs: 9,
      shutdown_notice_secs: 11,
      suspend_notice_secs: 12,
      resume_notice_secs: 14,
      restart_secs: 121,
      corrective_action: corrective,
    });
  }

  last(type: Received["msg_type"]): Received | undefined {
    return [...this.received].reverse().find((m) => m.msg_type === type);
  }

  count(type: Received["msg_type"]): number {
    return this.received.filter((m) => m.msg_type === type).length;
  }

  private onMessage(m: Received): void {
    this.received.push(m);
    if (m.msg_type === "challenge" && this.answering) {
      this.send({
        msg_type: "challenge_response",
        heartbeat_response: m.heartbeat_challenge,
        heartbeat_health: this.health,
        corrective_action: this.health === "healthy" ? "none" : this.action,
        log_msg: this.health === "healthy" ? "" : "test says unhealthy",
      });
    }
    if (m.msg_type === "action_notify" && this.vote) {
      this.send({
        msg_type: "action_response",
        invocation_id: m.invocation_id,
        event_type: m.event_type,
        notification_type: m.notification_type,
        vote_result: this.vote,
        log_msg: this.vote === "reject" ? "busy with a transaction" : "",
      });
    }
  }
}

/** A connector whose channel files are entries in `present`; each connect wires the MemoryGuest. */
export class MemoryConnector implements ChannelConnector {
  readonly present = new Set<string>();
  connects = 0;
  closes = 0;
  private handlers: LinkHandlers | undefined;
  constructor(readonly guest: MemoryGuest) {}

  async connect(path: string, handlers: LinkHandlers): Promise<ChannelLink> {
    if (!this.present.has(path)) throw Object.assign(new Error("connect ENOENT"), { code: "ENOENT" });
    this.connects++;
    this.handlers = handlers;
    const toGuest = this.guest.attach((chunk) => handlers.data(chunk));
    return {
      write: (frame) => toGuest(frame),
      close: () => {
        this.closes++;
      },
    };
  }

  /** QEMU closes its end. */
  hangup(): void {
    this.handlers?.closed("peer closed");
  }
}

export interface Report {
  at: number;
  code: string;
  payload: Record<string, unknown>;
}

export function memoryContext(clock: Clock, connector: MemoryConnector, reports: Report[], hostReporting = () => true): InstanceContext {
  return {
    clock,
    log: silentLogger(),
    connector,
    hostname: "worker-0",
    timers: { minIntervalMs: 400, failureThreshold: 1, connectMaxSeconds: 60, heartbeatStartSeconds: 120, waitForInitSeconds: 60 },
    hostReporting,
    report: (code, payload) => reports.push({ at: clock.now(), code: guestCodeName(code), payload }),
    badInput: () => {},
    socketExists: (path) => connector.present.has(path),
  };
}
