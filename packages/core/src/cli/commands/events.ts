import type { Command } from "commander";
import type { HeartbeatEvent } from "../../agent/ports.js";
import type { AlarmRecord } from "../../alarms/sink.js";
import type { HostSummary } from "../../api/host-summary.js";
import { followSse, type SseEvent } from "../../api/sse-client.js";
import { CliError, intOption } from "../errors.js";
import { type ApiTargetOptions, apiClient, withApiTarget } from "./api-target.js";

/** One event as a line of text: time, type, and what changed. */
export function formatEventLine(e: SseEvent, now = new Date()): string {
  const t = now.toISOString().slice(11, 19);
  let d: unknown;
  try {
    d = JSON.parse(e.data);
  } catch {
    return `${t} ${e.event} ${e.data}`;
  }
  if (e.event === "host") {
    const h = d as HostSummary;
    const stage = h.handler ? ` ${h.handler}:${h.stage}` : "";
    const degrade = h.degrade.length ? ` degrade=${h.degrade.join(",")}` : "";
    return `${t} host ${h.hostname} ${h.administrative}-${h.operational}-${h.availability}${h.task ? ` "${h.task}"` : ""}${stage}${degrade}`;
  }
  if (e.event === "alarm") {
    const a = d as AlarmRecord;
    return `${t} alarm ${a.operation} ${a.id} ${a.hostname}${a.entity ? ` ${a.entity}` : ""} ${a.severity}: ${a.text}`;
  }
  if (e.event === "heartbeat") {
    const h = d as HeartbeatEvent;
    return `${t} heartbeat ${h.kind} ${h.hostname} ${h.network}`;
  }
  if (e.event === "host-removed") return `${t} host-removed ${(d as { hostname: string }).hostname}`;
  return `${t} ${e.event} ${e.data}`;
}

/**
 * `metal events [--format json] [--snapshot] [--count N]`: follow the agent's event stream (`GET /v1/events`),
 * reconnecting with Last-Event-ID after a drop so nothing is missed. Text: one line per event; json: one JSON
 * object per line `{"id","type","data"}`.
 */
export function eventsCommand(program: Command): void {
  withApiTarget(
    program
      .command("events")
      .description("follow the mtcAgent's live events (host state changes, alarms, heartbeat), reconnecting without loss")
      .option("--format <format>", "text or json (one JSON object per line)", "text")
      .option("--snapshot", "start with every host and the active alarms")
      .option("--count <n>", "exit after this many events", intOption("--count", 1, 1_000_000)),
  ).action(async (opts: ApiTargetOptions & { format: string; snapshot?: boolean; count?: number }) => {
    if (opts.format !== "text" && opts.format !== "json") throw new CliError(`--format must be text or json (got '${opts.format}')`);
    const api = await apiClient(opts, false);
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    let seen = 0;
    let lastComplaint = 0;
    await followSse({
      url: `${api.baseUrl}/v1/events${opts.snapshot ? "?snapshot=1" : ""}`,
      signal: ac.signal,
      onEvent: (e) => {
        if (opts.format === "json") {
          let data: unknown = e.data;
          try {
            data = JSON.parse(e.data);
          } catch {
            // not JSON: passed on as the text it is
          }
          process.stdout.write(`${JSON.stringify({ id: e.id, type: e.event, data })}\n`);
        } else process.stdout.write(`${formatEventLine(e)}\n`);
        seen++;
        return opts.count === undefined || seen < opts.count;
      },
      onDisconnect: (reason) => {
        // One line per 30 s at most while the agent is away.
        if (Date.now() - lastComplaint < 30_000) return;
        lastComplaint = Date.now();
        process.stderr.write(`metal events: ${reason} (${api.baseUrl}); reconnecting\n`);
      },
    });
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  });
}
