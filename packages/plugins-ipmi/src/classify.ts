/**
 * What a failed ipmitool run says, read from its stderr+stdout. The order matters: a privilege refusal and a
 * busy BMC both end with "Unable to establish IPMI v2 / RMCP+ session", so they are recognised before the
 * generic session failure (whose cause only a verbose probe can tell).
 */
export type IpmitoolFailureKind = "permission" | "busy" | "session" | "unsupported" | "protocol";

export interface IpmitoolFailure {
  kind: IpmitoolFailureKind;
  /** For permission: the privilege level the BMC refused or the command needs (IPMI names). */
  privilege?: string;
}

/** ipmitool messages worth another try (Ironic's built-in list, peers.md 1.3 and 5.5). */
export const RETRYABLE = [/insufficient resources for session/i, /node busy/i, /timeout/i, /out of space/i, /BMC initialization in progress/i];

const SESSION_FAILED = /Unable to establish IPMI v2 \/ RMCP\+ session|Unable to establish LAN session/i;
const PRIVILEGE_REFUSED = /Insufficient privilege level|privilege level (?:not available|exceeds)|Requested privilege level exceeds limit/i;
const SET_PRIVILEGE = /Set Session Privilege Level to (\w+) failed/i;

/**
 * The minimum privilege a command needs (IPMI v2.0 Appendix G): chassis control and boot options are
 * OPERATOR; reads are USER.
 */
export function privilegeNeeded(command: readonly string[]): string {
  const [a, b, c] = command;
  if (a === "chassis" && b === "power" && c !== "status") return "OPERATOR";
  if (a === "chassis" && (b === "bootdev" || b === "bootparam")) return "OPERATOR";
  if (a === "sol") return "USER";
  return "USER";
}

/** Classify the text of a failed run of `command`. Pure; the caller turns the kind into a BmcError code. */
export function classifyIpmitoolFailure(text: string, command: readonly string[]): IpmitoolFailure {
  const set = SET_PRIVILEGE.exec(text);
  if (set?.[1]) return { kind: "permission", privilege: set[1].toUpperCase() };
  if (PRIVILEGE_REFUSED.test(text)) return { kind: "permission", privilege: privilegeNeeded(command) };
  if (RETRYABLE.some((re) => re.test(text))) return { kind: "busy" };
  if (SESSION_FAILED.test(text)) return { kind: "session" };
  if (/Invalid command|not supported|Invalid data field/i.test(text)) return { kind: "unsupported" };
  return { kind: "protocol" };
}
