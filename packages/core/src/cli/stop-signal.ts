import type { Logger } from "../plugin-api/services.js";
import { installFaultGuard } from "./fault-guard.js";

/** The longest a daemon's stop may take before the process exits anyway (issue 11: gone within 2 s of SIGTERM). */
export const STOP_LIMIT_MS = 1_500;

/**
 * SIGTERM/SIGINT for a daemon (metal agent, client, hbs-agent, hbs-client, pmon, hostwd, guest-server,
 * guest-agent). Create it first, before anything slow, so a signal during start-up is not lost or turned into
 * a library's default exit; the handlers stay installed (a repeated signal is ignored, and execa's exit hook
 * never re-raises it while a BMC child runs). `thenExit` waits for the signal, writes one line
 * (`<name> stopping (SIGTERM)`), runs `stop` for at most `limitMs`, and ends the process: exit 0, or 1 with a
 * second line when stop failed. Nothing left running (a timer, a socket, a child) can keep the process up.
 * It also installs the fault guard (cli/fault-guard.ts): no stray rejection or exception ends the daemon.
 */
export class StopSignal {
  /** The signal that came (SIGTERM or SIGINT). */
  readonly received: Promise<NodeJS.Signals>;
  private resolve: ((s: NodeJS.Signals) => void) | undefined;

  constructor(signals: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"]) {
    installFaultGuard();
    this.received = new Promise((r) => {
      this.resolve = r;
    });
    for (const s of signals)
      process.on(s, () => {
        const r = this.resolve;
        this.resolve = undefined;
        r?.(s);
      });
  }

  /**
   * Wait for the signal, stop (bounded), exit. `log` takes the line when given (the daemon's JSON log), else it
   * goes to stderr as `metal: <name> stopping (SIGTERM)`. `exit` is process.exit (tests inject their own).
   */
  async thenExit(name: string, stop: () => Promise<unknown>, o: { log?: Logger; limitMs?: number; exit?: (code: number) => void } = {}): Promise<void> {
    const signal = await this.received;
    const say = (level: "info" | "warn" | "error", obj: Record<string, unknown>, msg: string) => {
      if (o.log) o.log[level](obj, msg);
      else process.stderr.write(`metal: ${msg}${obj.err ? `: ${String(obj.err)}` : ""}\n`);
    };
    say("info", { signal }, `${name} stopping (${signal})`);
    const limitMs = o.limitMs ?? STOP_LIMIT_MS;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      stop().then(
        () => "stopped" as const,
        (err: unknown) => err as Error,
      ),
      new Promise<"late">((r) => {
        timer = setTimeout(() => r("late"), limitMs);
      }),
    ]);
    clearTimeout(timer);
    let code = 0;
    if (outcome === "late") say("warn", { limitMs }, `${name}: stop took longer than ${limitMs} ms; exiting now`);
    else if (outcome !== "stopped") {
      say("error", { err: outcome?.message ?? String(outcome) }, `${name}: stop failed`);
      code = 1;
    }
    (o.exit ?? process.exit)(code);
  }
}
