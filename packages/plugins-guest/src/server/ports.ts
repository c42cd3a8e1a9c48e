import type { Clock, Logger } from "@metal/core/plugin-api";

/** A connected byte link to one channel socket. */
export interface ChannelLink {
  write(frame: string): void;
  close(): void;
}

export interface LinkHandlers {
  data(chunk: Buffer): void;
  closed(reason: string): void;
}

/** Opens channel sockets; the real one connects UNIX stream sockets, tests may hand in memory pairs. */
export interface ChannelConnector {
  /** Resolves once connected; rejects with an Error carrying the errno `code` (ENOENT, ECONNREFUSED, ...). */
  connect(path: string, handlers: LinkHandlers): Promise<ChannelLink>;
}

export interface ServerTimers {
  minIntervalMs: number;
  failureThreshold: number;
  connectMaxSeconds: number;
  heartbeatStartSeconds: number;
  waitForInitSeconds: number;
}

/** What an instance needs from the guestServer that owns it. */
export interface InstanceContext {
  readonly clock: Clock;
  readonly log: Logger;
  readonly connector: ChannelConnector;
  readonly hostname: string;
  readonly timers: ServerTimers;
  /** Host-level reporting, set by guestAgent's MOD_HOST. */
  hostReporting(): boolean;
  /** Send an event (RUNNING, STOPPED, ILLHEALTH, LOSS, VOTE_NOTIFY) to guestAgent. */
  report(code: number, payload: Record<string, unknown>): void;
  /** Log bad input once per key per window. */
  badInput(key: string, obj: Record<string, unknown>, msg: string): void;
  socketExists(path: string): boolean;
}
