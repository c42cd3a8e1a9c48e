/**
 * The last line of defence of a daemon (DESIGN: "no unhandled rejection or exception ever ends a daemon"): a
 * promise nobody awaited that rejects, or an exception thrown from a callback nobody wrapped, is written as one
 * line on stderr and the daemon keeps serving. Every known failure path handles its own errors; this catches the
 * bug that slipped through, so a host's maintenance does not stop with it. Lines are rate-limited to one per
 * distinct message per minute, so a fault in a periodic path cannot flood the log.
 * Installed once per process by StopSignal (every daemon creates one first thing); idempotent.
 */
const RATE_LIMIT_MS = 60_000;
let installed = false;

/** Install the guard (idempotent). `write` takes each line (stderr by default; tests inject their own). */
export function installFaultGuard(write: (line: string) => void = (l) => process.stderr.write(l)): void {
  if (installed) return;
  installed = true;
  const lastSaid = new Map<string, number>();
  const say = (kind: string, err: unknown) => {
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const now = Date.now();
    const key = `${kind} ${text}`;
    if ((lastSaid.get(key) ?? -Infinity) > now - RATE_LIMIT_MS) return;
    if (lastSaid.size > 1_000) lastSaid.clear(); // bounded memory under a storm of distinct messages
    lastSaid.set(key, now);
    write(`metal: ${kind} (kept running): ${text.slice(0, 500).replace(/\s+/g, " ")}\n`);
  };
  process.on("unhandledRejection", (reason) => say("unhandled rejection", reason));
  process.on("uncaughtException", (err) => say("uncaught exception", err));
}
