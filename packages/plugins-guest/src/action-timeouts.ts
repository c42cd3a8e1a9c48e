import type { EventType, NotificationType } from "./channel/messages.js";

/** The guest's timeouts from its `init`, in seconds (each already carries the guest's +1 s propagation delay). */
export interface GuestTimeouts {
  vote: number;
  shutdown: number;
  suspend: number;
  resume: number;
  restart: number;
}

/** Host defaults before `init` (reference A.6). */
export const DEFAULT_GUEST_TIMEOUTS: GuestTimeouts = { vote: 10, shutdown: 10, suspend: 10, resume: 10, restart: 120 };

/** Which notice period an event uses (the guest-client's README event table). */
export function noticeFor(event: EventType | string): "shutdown" | "suspend" | "resume" | undefined {
  switch (event) {
    case "stop":
    case "reboot":
      return "shutdown";
    case "pause":
    case "suspend":
    case "resize_begin":
    case "live_migrate_begin":
    case "cold_migrate_begin":
      return "suspend";
    case "unpause":
    case "resume":
    case "resize_end":
    case "live_migrate_end":
    case "cold_migrate_end":
      return "resume";
    default:
      return undefined;
  }
}

/**
 * `timeout_ms` of an `action_notify`, which is also how long the host waits for the answer.
 * QUIRK fixed (A.16): the original's fallback for other events was `vote_secs` without the x1000, and its
 * host vote timer was always `vote_secs` whatever the notification; here both use this one value.
 */
export function actionTimeoutMs(event: EventType | string, notification: NotificationType, t: GuestTimeouts): number {
  if (notification === "revocable") return t.vote * 1000;
  const notice = noticeFor(event);
  return (notice ? t[notice] : t.vote) * 1000;
}

/**
 * The timeout guestAgent returns to the VIM for a vote or notify, in seconds.
 * QUIRK fixed (A.16): the original returned "0" for resize_begin/resize_end; they use their notice periods.
 */
export function vimActionTimeoutSecs(kind: "vote" | "notify", event: string, t: GuestTimeouts): number {
  if (kind === "vote") return t.vote;
  const notice = noticeFor(event);
  return notice ? t[notice] : 0;
}
