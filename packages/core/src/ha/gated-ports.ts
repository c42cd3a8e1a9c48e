import type { HeartbeatControl, HostMessaging } from "../agent/ports.js";

/** Raised when an agent that does not lead tries to act; branch on `code`. */
export class NotActiveError extends Error {
  readonly code = "NOT_ACTIVE";
}

/**
 * The agent's outbound ports behind its leadership (issue 12): a host command is refused and a heartbeat control
 * message dropped whenever `mayAct()` is false — checked at the moment of sending, so an agent that wakes from a pause
 * with an expired lease sends nothing even if one of its timers fires before the election notices.
 */
export function gateMessaging(inner: HostMessaging, mayAct: () => boolean): HostMessaging {
  return {
    command: (hostname, command, options) =>
      mayAct()
        ? inner.command(hostname, command, options)
        : Promise.reject(new NotActiveError(`not the active controller: ${command} to ${hostname} not sent`)),
    onMessage: (listener) => inner.onMessage(listener),
  };
}

/** HeartbeatControl whose commands to the hbsAgents go out only while `mayAct()`; events still arrive. */
export function gateHeartbeat(inner: HeartbeatControl, mayAct: () => boolean): HeartbeatControl {
  const when =
    <A extends unknown[]>(fn: (...a: A) => void) =>
    (...a: A) => {
      if (mayAct()) fn(...a);
    };
  return {
    addHost: when((h) => inner.addHost(h)),
    delHost: when((n) => inner.delHost(n)),
    startHost: when((n) => inner.startHost(n)),
    stopHost: when((n) => inner.stopHost(n)),
    backoff: when(() => inner.backoff()),
    recover: when(() => inner.recover()),
    activeController: when((n) => inner.activeController(n)),
    onEvent: (listener) => inner.onEvent(listener),
  };
}
