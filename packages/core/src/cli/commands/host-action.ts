import type { Command } from "commander";
import type { HostView } from "../../agent/mtc-agent.js";
import { CliError, numberOption } from "../errors.js";
import { waitForAction } from "../wait-host.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";

const HOSTNAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

interface ActionOptions extends ApiTargetOptions {
  json?: boolean;
  force?: boolean;
  wait?: boolean;
  timeout: number;
}

/**
 * `metal host-<verb> HOST [--wait]`: one admin action through the API; prints the accepted action or the reason it
 * was refused. With --wait, returns when the host reaches the action's target state (exit 0) or the action fails
 * or --timeout seconds pass (exit 1), with a progress line on stderr at every change.
 */
export function hostActionCommand(program: Command, name: string, action: string, description: string, extra?: (cmd: Command) => Command): void {
  let cmd = program
    .command(`${name} <host>`)
    .description(description)
    .option("--json", "print the API answer as JSON")
    .option("--wait", "return when the action is done (or failed), with progress lines on stderr")
    .option("--timeout <seconds>", "with --wait: give up after this many seconds", numberOption("--timeout", 1, 86_400), 1200);
  if (extra) cmd = extra(cmd);
  withApiTarget(cmd).action(async (host: string, opts: ActionOptions) => {
    if (!HOSTNAME.test(host)) throw new CliError(`'${host}' is not a hostname`);
    const chosen = opts.force && action === "lock" ? "force-lock" : opts.force && action === "swact" ? "force-swact" : action;
    const api = await apiClient(opts, true);
    const r = await callApi(() =>
      chosen === "delete"
        ? api.request<{ queued: boolean; host?: HostView }>("DELETE", `/v1/hosts/${encodeURIComponent(host)}`)
        : api.request<{ queued: boolean; host?: HostView }>("PATCH", `/v1/hosts/${encodeURIComponent(host)}`, { action: chosen }),
    );
    if (!opts.wait) {
      if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else process.stdout.write(`${host}: ${chosen} ${r.queued ? "queued" : "accepted"}\n`);
      return;
    }
    if (!opts.json) process.stderr.write(`${host}: ${chosen} ${r.queued ? "queued" : "accepted"}; waiting (up to ${opts.timeout} s)\n`);
    const final = await waitForAction(api, host, chosen, { timeoutS: opts.timeout, progress: process.stderr });
    if (opts.json) process.stdout.write(`${JSON.stringify({ status: "pass", action: chosen, host: final ?? null }, null, 2)}\n`);
    else process.stdout.write(`${host}: ${chosen} done${final ? ` (${final.administrative}-${final.operational}-${final.availability})` : ""}\n`);
  });
}
