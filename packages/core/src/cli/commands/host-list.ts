import type { Command } from "commander";
import type { HostView } from "../../agent/mtc-agent.js";
import { type OutputOptions, printList, withOutputOptions } from "../output.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";

/** `metal host-list [-f FORMAT] [--column NAME]`: every host's admin/oper/avail, action and task. */
export function hostListCommand(program: Command): void {
  withApiTarget(
    withOutputOptions(program.command("host-list").description("list hosts: personality, administrative/operational/availability, action, task")),
  ).action(async (opts: ApiTargetOptions & OutputOptions) => {
    const api = await apiClient(opts, false);
    const { hosts } = await callApi(() => api.request<{ hosts: HostView[] }>("GET", "/v1/hosts"));
    printList(opts, hosts, ["hostname", "personality", "administrative", "operational", "availability", "action", "task"]);
  });
}
