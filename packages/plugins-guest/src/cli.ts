import { readFileSync } from "node:fs";
import { loadCliConfig } from "@metal/core/cli/config-option";
import { CliError, intOption } from "@metal/core/cli/errors";
import { StopSignal } from "@metal/core/cli/stop-signal";
import { SystemClock } from "@metal/core/clock/index";
import { createLogger } from "@metal/core/logging/index";
import type { CliContribution } from "@metal/core/plugin-api";
import type { Command } from "commander";
import { GuestAgent } from "./agent/guest-agent.js";
import { GuestClient, type GuestClientOptions } from "./client/guest-client.js";
import { GuestServer } from "./server/guest-server.js";

/**
 * Run until SIGTERM/SIGINT, then stop (bounded) and exit (core's StopSignal: one line, exit 0 within 2 s). The
 * interval keeps the loop alive while nothing else does.
 */
async function runUntilSignal(signal: StopSignal, name: string, stop: () => Promise<void>): Promise<void> {
  setInterval(() => {}, 1 << 30);
  await signal.thenExit(name, stop);
}

function bindError(err: unknown, what: string): never {
  const e = err as NodeJS.ErrnoException;
  throw new CliError(`${what}: ${e.code ?? ""} ${e.message}`.trim(), 1);
}

/** The original guest_heartbeat.conf (KEY=VALUE lines); seconds except HB_* in ms. */
export function readGuestConf(path: string): Partial<GuestClientOptions> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code}`);
  }
  const out: Partial<GuestClientOptions> = {};
  const num = (k: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new CliError(`${path}: ${k} must be a non-negative integer (got '${v}')`);
    return n;
  };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const k = line.slice(0, eq).trim();
    const v = line
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
    switch (k) {
      case "HB_INTERVAL":
        out.intervalMs = num(k, v);
        break;
      case "HB_INIT_RETRY":
        out.initRetryMs = num(k, v);
        break;
      case "VOTE":
        out.voteSecs = num(k, v);
        break;
      case "SHUTDOWN_NOTICE":
        out.shutdownSecs = num(k, v);
        break;
      case "SUSPEND_NOTICE":
        out.suspendSecs = num(k, v);
        break;
      case "RESUME_NOTICE":
        out.resumeSecs = num(k, v);
        break;
      case "RESTART":
        out.restartSecs = num(k, v);
        break;
      case "HEALTH_CHECK_INTERVAL":
        out.healthCheckIntervalS = num(k, v);
        break;
      case "CORRECTIVE_ACTION":
        if (v !== "reboot" && v !== "stop" && v !== "log") throw new CliError(`${path}: CORRECTIVE_ACTION must be reboot, stop or log (got '${v}')`);
        out.correctiveAction = v;
        break;
      case "HEALTH_CHECK_SCRIPT":
        if (v) out.healthCheckScript = v;
        break;
      case "EVENT_NOTIFICATION_SCRIPT":
        if (v) out.eventScript = v;
        break;
    }
  }
  return out;
}

/** `metal guest-server`, `metal guest-agent`, `metal guest-client`. */
export const guestCli: CliContribution = (p) => {
  const program = p as Command;

  program
    .command("guest-server")
    .description("guestServer (every worker): watch the VMs' heartbeat channels, heartbeat them, report to guestAgent")
    .option("-c, --config <file>", "metal config file (YAML or JSON); defaults otherwise")
    .option("--channel-dir <dir>", "where QEMU creates cgcs.heartbeat.<uuid>.sock (default guest.channelDir)")
    .action(async (opts: { config?: string; channelDir?: string }) => {
      const signal = new StopSignal();
      const config = await loadCliConfig(opts.config);
      const logger = createLogger({ level: config.logging.level, pretty: config.logging.pretty, name: "guestServer" });
      const server = new GuestServer({ config, clock: new SystemClock(), logger, ...(opts.channelDir ? { channelDir: opts.channelDir } : {}) });
      await server.start().catch((err) => bindError(err, "guest-server cannot start"));
      await runUntilSignal(signal, "guestServer", () => server.stop());
    });

  program
    .command("guest-agent")
    .description("guestAgent (active controller): the VIM's guest HTTP API, events to the VIM, guestServer audit")
    .requiredOption("-c, --config <file>", "metal config file (YAML or JSON)")
    .action(async (opts: { config: string }) => {
      const signal = new StopSignal();
      const config = await loadCliConfig(opts.config);
      const logger = createLogger({ level: config.logging.level, pretty: config.logging.pretty, name: "guestAgent" });
      const agent = new GuestAgent({ config, clock: new SystemClock(), logger });
      await agent.start().catch((err) => bindError(err, "guest-agent cannot start"));
      await runUntilSignal(signal, "guestAgent", () => agent.stop());
    });

  program
    .command("guest-client")
    .description("the in-guest heartbeat client: init, answer challenges with health, vote on events, exit on shutdown")
    .requiredOption("--device <path>", "the heartbeat port (/dev/virtio-ports/cgcs.heartbeat), a pty or a UNIX socket")
    .option("--conf <file>", "guest_heartbeat.conf (KEY=VALUE: HB_INTERVAL, VOTE, CORRECTIVE_ACTION, HEALTH_CHECK_SCRIPT, ...)")
    .option("--interval-ms <ms>", "heartbeat interval the guest asks for", intOption("--interval-ms", 100, 3_600_000))
    .option("--corrective-action <action>", "what the host should do when this guest fails: reboot, stop or log")
    .option("--vote-secs <s>", "vote timeout", intOption("--vote-secs", 0, 3600))
    .option("--shutdown-secs <s>", "shutdown notice", intOption("--shutdown-secs", 0, 3600))
    .option("--suspend-secs <s>", "suspend notice", intOption("--suspend-secs", 0, 3600))
    .option("--resume-secs <s>", "resume notice", intOption("--resume-secs", 0, 3600))
    .option("--restart-secs <s>", "restart timeout", intOption("--restart-secs", 0, 86_400))
    .option("--health-script <path>", "health check: exit 0 healthy, else the first stdout line says why")
    .option("--health-interval <s>", "seconds between health checks", intOption("--health-interval", 1, 86_400))
    .option("--event-script <path>", "run as SCRIPT <revocable|irrevocable> <event>; exit 0 agrees")
    .option("--name <name>", "the name sent in init (default: this host's name)")
    .option("--log-level <level>", "trace, debug, info, warn, error", "info")
    .action(
      async (opts: {
        device: string;
        conf?: string;
        intervalMs?: number;
        correctiveAction?: string;
        voteSecs?: number;
        shutdownSecs?: number;
        suspendSecs?: number;
        resumeSecs?: number;
        restartSecs?: number;
        healthScript?: string;
        healthInterval?: number;
        eventScript?: string;
        name?: string;
        logLevel: string;
      }) => {
        const action = opts.correctiveAction;
        if (action !== undefined && action !== "reboot" && action !== "stop" && action !== "log") {
          throw new CliError(`--corrective-action must be reboot, stop or log (got '${action}')`);
        }
        const fromFlags: Partial<GuestClientOptions> = {
          ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
          ...(action ? { correctiveAction: action } : {}),
          ...(opts.voteSecs !== undefined ? { voteSecs: opts.voteSecs } : {}),
          ...(opts.shutdownSecs !== undefined ? { shutdownSecs: opts.shutdownSecs } : {}),
          ...(opts.suspendSecs !== undefined ? { suspendSecs: opts.suspendSecs } : {}),
          ...(opts.resumeSecs !== undefined ? { resumeSecs: opts.resumeSecs } : {}),
          ...(opts.restartSecs !== undefined ? { restartSecs: opts.restartSecs } : {}),
          ...(opts.healthScript ? { healthCheckScript: opts.healthScript } : {}),
          ...(opts.healthInterval !== undefined ? { healthCheckIntervalS: opts.healthInterval } : {}),
          ...(opts.eventScript ? { eventScript: opts.eventScript } : {}),
          ...(opts.name ? { name: opts.name } : {}),
        };
        const logger = createLogger({ level: opts.logLevel, name: "guest-client" });
        const client = new GuestClient({ ...(opts.conf ? readGuestConf(opts.conf) : {}), ...fromFlags, device: opts.device, clock: new SystemClock(), logger });
        const signal = new StopSignal();
        await client.start();
        await runUntilSignal(signal, "guest-client", () => client.stop());
      },
    );
};
