/** Services the core hands to plugins. Plugins depend on these shapes, never on the implementations. */

export interface TimerHandle {
  readonly id: number;
}

/**
 * Every timer in metal goes through a Clock, so state machines run in virtual time in tests
 * (a 20-minute boot timeout is tested in milliseconds).
 */
export interface Clock {
  /** Milliseconds since the epoch, on this clock's time line. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
  sleep(ms: number): Promise<void>;
}

/** The pino subset metal code uses; one JSON line per event. */
export interface Logger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  fatal(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}
