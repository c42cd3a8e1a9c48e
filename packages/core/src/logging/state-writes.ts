import type { Logger } from "../plugin-api/services.js";

/** The agent's persistent state, by file kind: host records, the active alarm table, the alarm history. */
export type StateTarget = "hosts" | "alarms" | "history";

/** Why a state write failed: a full medium (ENOSPC, EDQUOT), any other I/O fault, or a store-specific code. */
export type StateWriteCode = "STORE_NO_SPACE" | "STORE_IO" | (string & {});

/** One target whose writes fail now. */
export interface StateWriteFault {
  readonly target: StateTarget;
  readonly code: StateWriteCode;
  /** Wall-clock ms of the first failure of this episode. */
  readonly since: number;
  /** The file (or key) the first failure named. */
  readonly path?: string;
  /** Failed writes in this episode. */
  failures: number;
}

/** The stable code of a write error: an errno or a StoreError code (never the message). */
export function stateWriteCode(err: unknown): StateWriteCode {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") return "STORE_NO_SPACE";
  if (typeof code === "string" && code.startsWith("STORE_")) return code;
  return "STORE_IO";
}

/**
 * Faults are errors, not exits (issue 11): every persistent write of the agent (hosts, alarms.json, the alarm
 * history) reports here when it fails and when it works. An episode, from the first failure of a target to
 * its next good write, gives one error line ("state write failing", with target, code and file) and one info
 * line when it ends ("state writes work again", with how many writes failed); `faults()` is the state the
 * API's metrics show (metal_state_write_failing). The writers keep what they could not write and retry it.
 */
export class StateWriteHealth {
  private readonly current = new Map<StateTarget, StateWriteFault>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** A write of `target` failed with `err`; logs only when an episode starts or its code changes. */
  failed(target: StateTarget, err: unknown, path?: string): void {
    const code = stateWriteCode(err);
    const cur = this.current.get(target);
    if (cur && cur.code === code) {
      cur.failures++;
      return;
    }
    this.current.set(target, { target, code, since: this.now(), failures: 1, ...(path ? { path } : {}) });
    this.log.error({ target, code, ...(path ? { file: path } : {}), err: (err as Error)?.message ?? String(err) }, "state write failing");
  }

  /** A write of `target` worked: ends its episode (one line) if there was one. */
  ok(target: StateTarget): void {
    const cur = this.current.get(target);
    if (!cur) return;
    this.current.delete(target);
    this.log.info({ target, was: cur.code, failures: cur.failures, forMs: this.now() - cur.since }, "state writes work again");
  }

  /** Whether `target` is in a failure episode now. */
  failing(target: StateTarget): boolean {
    return this.current.has(target);
  }

  /** Every target failing now. */
  faults(): readonly StateWriteFault[] {
    return [...this.current.values()];
  }
}
