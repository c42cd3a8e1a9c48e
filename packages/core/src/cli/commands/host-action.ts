import type { Command } from "commander";
import { CliError } from "../errors.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";

const HOSTNAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** `metal host-<verb> HOST`: one admin action through the API; prints the accepted action or the reason it was refused. */
export function hostActionCommand(program: Command, name: string, action: string, description: string, extra?: (cmd: Command) => Command): void {
  let cmd = program.command(`${name} <host>`).description(description).option("--json", "print the API answer as JSON");
  if (extra) cmd = extra(cmd);
  withApiTarget(cmd).action(async (host: string, opts: ApiTargetOptions & { json?: boolean; force?: boolean }) => {
    if (!HOSTNAME.test(host)) throw new CliError(`'${host}' is not a hostname`);
    const chosen = opts.force && action === "lock" ? "force-lock" : opts.force && action === "swact" ? "force-swact" : action;
    const api = await apiClient(opts, true);
    const r = await callApi(() =>
      chosen === "delete"
        ? api.request<{ queued: boolean }>("DELETE", `/v1/hosts/${encodeURIComponent(host)}`)
        : api.request<{ queued: boolean }>("PATCH", `/v1/hosts/${encodeURIComponent(host)}`, { action: chosen }),
    );
    if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else process.stdout.write(`${host}: ${chosen} ${r.queued ? "queued" : "accepted"}\n`);
  });
}
