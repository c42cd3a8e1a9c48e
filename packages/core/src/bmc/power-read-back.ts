import { BmcError, type PowerAction, type PowerControl, type PowerSetReport, type PowerState } from "../plugin-api/bmc.js";
import type { Clock } from "../plugin-api/services.js";

/** What a power action did and what the BMC says now. */
export interface PowerOutcome {
  action: PowerAction;
  /** Requests the plugin reported sending (empty when it reports nothing). */
  sent: PowerSetReport["sent"];
  /** The power state read back after the action (on/off actions; a restart ends where it began). */
  readBack?: PowerState;
  elapsedMs: number;
}

const WANT: Partial<Record<PowerAction, PowerState>> = { on: "on", off: "off", "graceful-off": "off" };

/**
 * Do a power action and read the state back, all within `budgetMs` (issue 14 item 5): "done" means the BMC reads the
 * wanted state, not only that it took the request. A plugin that reports what it read back is believed; otherwise the
 * state is polled every `pollMs` until it shows or the budget runs out, which is a BmcError 'timeout' saying what was
 * sent and what was read ("still on after 30 s (chassis off accepted)"), never "no answer" when the BMC answered.
 * Errors of the plugin itself pass through unchanged.
 */
export async function powerWithReadBack(
  power: PowerControl,
  action: PowerAction,
  o: { budgetMs: number; clock: Clock; pollMs?: number; host?: string },
): Promise<PowerOutcome> {
  const began = o.clock.now();
  const report = (await power.set(action)) ?? undefined;
  const sent = report?.sent ?? [];
  const want = WANT[action];
  if (!want) return { action, sent, elapsedMs: o.clock.now() - began };
  let state = report?.readBack;
  // Keep a little of the budget so the answer reaches the caller before its own bound.
  const until = began + o.budgetMs - Math.min(3_000, o.budgetMs / 10);
  for (let i = 0; state !== want && i < 10_000; i++) {
    if (i > 0 || state !== undefined) {
      if (o.clock.now() >= until) break;
      await o.clock.sleep(Math.max(1, Math.min(o.pollMs ?? 1_000, until - o.clock.now())));
    }
    state = await power.status();
  }
  const elapsedMs = o.clock.now() - began;
  if (state === want) return { action, sent, readBack: state, elapsedMs };
  const what = sent.length ? sent.map((x) => `${x.request} sent at ${Math.round(x.atMs / 100) / 10} s`).join(", ") : `power ${action} accepted`;
  throw new BmcError("timeout", `power ${action}: still ${state ?? "unknown"} after ${Math.round(elapsedMs / 100) / 10} s (${what})`, o.host ?? "bmc");
}

/** One line for an operator: "power off: off (read back) after 15.2 s; sent GracefulShutdown at 0 s, ForceOff at 15 s". */
export function describePowerOutcome(r: PowerOutcome): string {
  const secs = Math.round(r.elapsedMs / 100) / 10;
  const head = r.readBack ? `power ${r.action}: ${r.readBack} (read back) after ${secs} s` : `power ${r.action}: done after ${secs} s`;
  return r.sent.length ? `${head}; sent ${r.sent.map((x) => `${x.request} at ${Math.round(x.atMs / 100) / 10} s`).join(", ")}` : head;
}
