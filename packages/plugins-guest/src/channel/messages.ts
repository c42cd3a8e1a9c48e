/**
 * The guest heartbeat message catalogue (reference A.4, A.5): typed messages and a validator that turns a
 * parsed frame into one of them or into the reason for a `nack`. Shared by guestServer and the guest client.
 */

export const GUEST_MSG_VERSION = 3;
export const GUEST_MSG_REVISION = 1;

/** Field limits of guest_heartbeat_msg_defs.h; longer strings are cut, as the C side's fixed buffers would. */
export const MAX_VALUE_SIZE = 32;
export const MAX_NAME_SIZE = 64;
export const MAX_LOG_SIZE = 224;

export const CORRECTIVE_ACTIONS = ["unknown", "none", "reboot", "stop", "log"] as const;
export type CorrectiveAction = (typeof CORRECTIVE_ACTIONS)[number];

export const EVENT_TYPES = [
  "unknown",
  "stop",
  "reboot",
  "suspend",
  "pause",
  "unpause",
  "resume",
  "resize_begin",
  "resize_end",
  "live_migrate_begin",
  "live_migrate_end",
  "cold_migrate_begin",
  "cold_migrate_end",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const NOTIFICATION_TYPES = ["unknown", "revocable", "irrevocable"] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const VOTE_RESULTS = ["unknown", "accept", "reject", "complete", "timeout", "error"] as const;
export type VoteResult = (typeof VOTE_RESULTS)[number];

export type Health = "healthy" | "unhealthy";

export interface Header {
  version: number;
  revision: number;
  sequence: number;
}

export interface InitBody {
  invocation_id: number;
  name: string;
  heartbeat_interval_ms: number;
  vote_secs: number;
  shutdown_notice_secs: number;
  suspend_notice_secs: number;
  resume_notice_secs: number;
  restart_secs: number;
  corrective_action: CorrectiveAction;
}

export type GuestMessage =
  | ({ msg_type: "init" } & InitBody)
  | { msg_type: "init_ack"; invocation_id: number }
  | { msg_type: "challenge"; heartbeat_challenge: number }
  | { msg_type: "challenge_response"; heartbeat_response: number; heartbeat_health: Health; corrective_action: CorrectiveAction; log_msg: string }
  | { msg_type: "action_notify"; invocation_id: number; event_type: EventType; notification_type: NotificationType; timeout_ms: number }
  | { msg_type: "action_response"; invocation_id: number; event_type: EventType; notification_type: NotificationType; vote_result: VoteResult; log_msg: string }
  | { msg_type: "exit"; log_msg: string }
  | { msg_type: "nack"; invocation_id: number; log_msg: string };

export type MsgType = GuestMessage["msg_type"];
export type Received = GuestMessage & Header;

export type ValidateResult =
  | { ok: true; message: Received }
  | {
      ok: false;
      reason: string;
      /** The msg_type when it could be read, so a receiver can decide whether a nack is worth sending. */
      msgType?: string;
    };

/** Serialise a message with the header first, in the original's field order. */
export function guestMessage(msg: GuestMessage, sequence: number): Record<string, unknown> {
  const { msg_type, ...body } = msg;
  return { version: GUEST_MSG_VERSION, revision: GUEST_MSG_REVISION, msg_type, sequence, ...body };
}

class FieldError extends Error {}

/** Readers for one message's fields; each throws FieldError("failed to parse <key>") like the original. */
function fields(obj: Record<string, unknown>) {
  const int = (key: string): number => {
    const v = obj[key];
    if (typeof v !== "number" || !Number.isInteger(v)) throw new FieldError(`failed to parse ${key}`);
    return v;
  };
  const str = (key: string, max: number): string => {
    const v = obj[key];
    if (typeof v !== "string") throw new FieldError(`failed to parse ${key}`);
    return v.length > max ? v.slice(0, max) : v;
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T => {
    const v = str(key, MAX_VALUE_SIZE);
    return (allowed as readonly string[]).includes(v) ? (v as T) : ("unknown" as T);
  };
  return { int, str, oneOf };
}

/**
 * Check a parsed frame: header first (`version` >= 3, `msg_type`), then the body of its type.
 * Higher versions are accepted (forward compatibility, as the original).
 */
export function validateGuestMessage(obj: Record<string, unknown>): ValidateResult {
  const f = fields(obj);
  let msgType: string | undefined;
  try {
    const version = f.int("version");
    msgType = f.str("msg_type", MAX_VALUE_SIZE);
    if (version < GUEST_MSG_VERSION) return { ok: false, reason: `Bad version: ${version}, expect version: ${GUEST_MSG_VERSION}`, msgType };
    const header: Header = {
      version,
      revision: typeof obj.revision === "number" ? obj.revision : 0,
      sequence: typeof obj.sequence === "number" ? obj.sequence : 0,
    };
    const body = validateBody(msgType, f);
    if (!body) return { ok: false, reason: `unsupported message type: ${msgType}`, msgType };
    return { ok: true, message: { ...header, ...body } };
  } catch (err) {
    if (err instanceof FieldError) return msgType === undefined ? { ok: false, reason: err.message } : { ok: false, reason: err.message, msgType };
    throw err;
  }
}

function validateBody(msgType: string, f: ReturnType<typeof fields>): GuestMessage | undefined {
  switch (msgType) {
    case "init":
      return {
        msg_type: "init",
        invocation_id: f.int("invocation_id"),
        name: f.str("name", MAX_NAME_SIZE),
        heartbeat_interval_ms: f.int("heartbeat_interval_ms"),
        vote_secs: f.int("vote_secs"),
        shutdown_notice_secs: f.int("shutdown_notice_secs"),
        suspend_notice_secs: f.int("suspend_notice_secs"),
        resume_notice_secs: f.int("resume_notice_secs"),
        restart_secs: f.int("restart_secs"),
        corrective_action: f.oneOf("corrective_action", CORRECTIVE_ACTIONS),
      };
    case "init_ack":
      return { msg_type: "init_ack", invocation_id: f.int("invocation_id") };
    case "challenge":
      return { msg_type: "challenge", heartbeat_challenge: f.int("heartbeat_challenge") };
    case "challenge_response": {
      const heartbeat_response = f.int("heartbeat_response");
      const health = f.str("heartbeat_health", MAX_VALUE_SIZE);
      return {
        msg_type: "challenge_response",
        heartbeat_response,
        // Any value other than "healthy" counts as unhealthy (A.5).
        heartbeat_health: health === "healthy" ? "healthy" : "unhealthy",
        corrective_action: f.oneOf("corrective_action", CORRECTIVE_ACTIONS),
        log_msg: f.str("log_msg", MAX_LOG_SIZE),
      };
    }
    case "action_notify":
      return {
        msg_type: "action_notify",
        invocation_id: f.int("invocation_id"),
        event_type: f.oneOf("event_type", EVENT_TYPES),
        notification_type: f.oneOf("notification_type", NOTIFICATION_TYPES),
        timeout_ms: f.int("timeout_ms"),
      };
    case "action_response":
      return {
        msg_type: "action_response",
        invocation_id: f.int("invocation_id"),
        event_type: f.oneOf("event_type", EVENT_TYPES),
        notification_type: f.oneOf("notification_type", NOTIFICATION_TYPES),
        vote_result: f.oneOf("vote_result", VOTE_RESULTS),
        log_msg: f.str("log_msg", MAX_LOG_SIZE),
      };
    case "exit":
      return { msg_type: "exit", log_msg: f.str("log_msg", MAX_LOG_SIZE) };
    case "nack":
      return { msg_type: "nack", invocation_id: f.int("invocation_id"), log_msg: f.str("log_msg", MAX_LOG_SIZE) };
    default:
      return undefined;
  }
}

/** A random value in 0..2147483647: C guests parse challenges and invocation ids as signed 32-bit. */
export function random31(): number {
  return Math.floor(Math.random() * 0x80000000);
}
