/**
 * One monitored process and what pmond's handlers need from the daemon around it (reference mtce-core.md §9).
 * The passive (and status) handler runs in `run`; the active monitor's ping-pong in `amon`.
 */
import type { ChildProcess } from "node:child_process";
import type { RunHolder, RunState } from "../fsm/engine.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import type { PmonSeverity, ProcessConf } from "./conf.js";
import type { PmonEventKind } from "./pmon-messages.js";
import type { PmonSettings } from "./settings.js";

/** What the handlers ask of pmond. */
export interface PmonContext {
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings: PmonSettings;
  /** Monitoring may begin for this process (goenabled + start_delay passed; AIO last-config deferral over). */
  monitoringAllowed(p: PmonProcess): boolean;
  /** Send a process event to the mtcAgent (dropped while /var/run/.node_reset exists). */
  event(p: PmonProcess, kind: PmonEventKind, reason?: string): void;
  /** Restart the process the configured way; resolves with why not when it could not. */
  restart(p: PmonProcess): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Run the status check of a status-mode process. */
  status(p: PmonProcess): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Send one active-monitor request. */
  ping(p: PmonProcess, seq: number): void;
}

/** The summary state `metal pmon status` shows. */
export type PmonState = "waiting" | "running" | "restarting" | "failed" | "ignored";

export interface PmonProcessStatus {
  process: string;
  mode: string;
  pid: number | null;
  state: PmonState;
  stage: string;
  /** Restarts since pmond started. */
  restarts: number;
  /** Failures in the current episode (reset by a good debounce). */
  failures: number;
  severity: PmonSeverity;
  /** The alarm (200.006) pmond asserted for it, if any. */
  alarm: PmonSeverity | null;
  quorum: boolean;
  quorumFailed: boolean;
  reason: string | null;
  conf: string;
}

export class PmonProcess implements RunHolder {
  run?: RunState;
  /** The active monitor's own run (ping-pong). */
  readonly amon: RunHolder = {};
  pid: number | undefined;
  /** Set when pmond started the process itself (conf `command`): its exit arrives as an event. */
  child: ChildProcess | undefined;
  childExited = false;
  /** Failures since the last good debounce. */
  failures = 0;
  restartsTotal = 0;
  alarm: PmonSeverity | undefined;
  reason: string | undefined;
  lastRestartAt = Number.NEGATIVE_INFINITY;
  lastRefreshAt = Number.NEGATIVE_INFINITY;
  /** After a restart: clear the failure history once up for `debounce` seconds. */
  debouncing = false;
  quorumFailed = false;
  /** Active monitor: the sequence last sent, the last one answered, back-to-back misses. */
  amonSeq = 0;
  amonAnswered = -1;
  amonMisses = 0;
  amonSentAt = 0;
  /** Status mode: the last status result and when the next check is due. */
  statusFailure: string | undefined;
  statusDueAt = 0;
  statusBusy = false;
  /** A status result arrived since the last restart. */
  statusFresh = true;

  constructor(
    public conf: ProcessConf,
    readonly ctx: PmonContext,
  ) {}

  get name(): string {
    return this.conf.process;
  }

  now(): number {
    return this.ctx.clock.now();
  }

  onError(handler: string, stage: string, err: unknown): void {
    this.ctx.log.error({ process: this.name, handler, stage, err: (err as Error)?.message ?? String(err) }, "pmon handler error");
  }

  /** Is the process alive? A child of pmond by its exit event; anything else by kill(pid, 0). */
  alive(): boolean {
    if (this.child) return !this.childExited;
    const pid = this.pid;
    if (pid === undefined) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      // EPERM: it exists but belongs to someone else; still alive.
      return (err as NodeJS.ErrnoException).code === "EPERM";
    }
  }

  status(): PmonProcessStatus {
    const stage = this.conf.mode === "ignore" ? "IGNORE" : (this.run?.stage ?? "POLLING");
    return {
      process: this.name,
      mode: this.conf.mode,
      pid: this.pid ?? null,
      state: stateOf(this.conf.mode, stage),
      stage,
      restarts: this.restartsTotal,
      failures: this.failures,
      severity: this.conf.severity,
      alarm: this.alarm ?? null,
      quorum: this.conf.quorum,
      quorumFailed: this.quorumFailed,
      reason: this.reason ?? null,
      conf: this.conf.file,
    };
  }
}

function stateOf(mode: string, stage: string): PmonState {
  if (mode === "ignore") return "ignored";
  switch (stage) {
    case "POLLING":
      return "waiting";
    case "IGNORE":
      return "failed";
    case "MANAGE":
    case "RESPAWN":
    case "TIMER_WAIT":
    case "START_WAIT":
      return "restarting";
    default:
      return "running";
  }
}
