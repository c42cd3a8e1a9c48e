import { execa } from "execa";
import type { EventType, NotificationType, VoteResult } from "../channel/messages.js";

/** An in-guest party that votes on or is told about an event: an application or the event script. */
export type ActionHandler = (
  event: EventType,
  notification: NotificationType,
  signal: AbortSignal,
) => Promise<{ vote: "accept" | "reject" | "complete"; reason?: string }>;

/** EVENT_NOTIFICATION_SCRIPT <revocable|irrevocable> <event>: exit 0 agrees; otherwise its first stdout line is the reason. */
export function scriptHandler(script: string): ActionHandler {
  return async (event, notification, signal) => {
    const r = await execa(script, [notification, event], { reject: false, cancelSignal: signal, stdin: "ignore" });
    if (r.exitCode === 0) return { vote: notification === "revocable" ? "accept" : "complete" };
    return { vote: "reject", reason: String(r.stdout ?? "").split("\n")[0] || `rejected by ${script} (rc ${r.exitCode ?? "signal"})` };
  };
}

export interface ActionOutcome {
  vote: VoteResult;
  reason: string;
}

/**
 * Ask every handler and aggregate (A.9): any reject wins; all agree gives accept (vote) or complete
 * (notification). No handlers at all: agree at once. When the deadline passes first, the answer is
 * reject if one already came in, else timeout; handlers still running are cancelled.
 */
export function collectVotes(
  handlers: readonly ActionHandler[],
  event: EventType,
  notification: NotificationType,
  deadline: (onExpiry: () => void) => () => void,
): { outcome: Promise<ActionOutcome | undefined>; abort: () => void } {
  const agree: VoteResult = notification === "revocable" ? "accept" : "complete";
  const controller = new AbortController();
  if (handlers.length === 0) return { outcome: Promise.resolve({ vote: agree, reason: "" }), abort: () => {} };
  let rejectReason: string | undefined;
  let abort = () => {};
  const outcome = new Promise<ActionOutcome | undefined>((resolve) => {
    let pending = handlers.length;
    let done = false;
    const finish = (o: ActionOutcome | undefined) => {
      if (done) return;
      done = true;
      cancelDeadline();
      controller.abort();
      resolve(o);
    };
    const cancelDeadline = deadline(() =>
      finish(
        rejectReason !== undefined
          ? { vote: "reject", reason: rejectReason }
          : { vote: "timeout", reason: "Timeout on application and/or script action responses." },
      ),
    );
    // Aborted (a newer action replaced this one): settle with no answer.
    abort = () => finish(undefined);
    for (const h of handlers) {
      h(event, notification, controller.signal).then(
        (r) => {
          if (r.vote === "reject" && rejectReason === undefined) rejectReason = r.reason ?? "rejected";
          if (--pending === 0) finish(rejectReason !== undefined ? { vote: "reject", reason: rejectReason } : { vote: agree, reason: "" });
        },
        (err: Error) => {
          if (controller.signal.aborted) return;
          if (rejectReason === undefined) rejectReason = `handler failed: ${err.message}`;
          if (--pending === 0) finish({ vote: "reject", reason: rejectReason });
        },
      );
    }
  });
  return { outcome, abort: () => abort() };
}
