import Table from "cli-table3";
import type { Command } from "commander";
import type { HostView } from "../../agent/mtc-agent.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";

/** `metal host-list [--json]`: every host's admin/oper/avail, action and task. */
export function hostListCommand(program: Command): void {
  withApiTarget(
    program.command("host-list").description("list hosts: personality, administrative/operational/availability, action, task").option("--json", "print JSON"),
  ).action(async (opts: ApiTargetOptions & { json?: boolean }) => {
    const api = await apiClient(opts, false);
    const { hosts } = await callApi(() => api.request<{ hosts: HostView[] }>("GET", "/v1/hosts"));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(hosts, null, 2)}\n`);
      return;
    }
    const table = new Table({ head: ["hostname", "personality", "administrative", "operational", "availability", "action", "task"] });
    for (const h of hosts) table.push([h.hostname, h.personality, h.administrative, h.operational, h.availability, h.action, h.task]);
    process.stdout.write(`${table.toString()}\n`);
  });
}
