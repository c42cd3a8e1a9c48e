import Table from "cli-table3";
import type { Command } from "commander";
import type { ActiveAlarm } from "../../alarms/alarm-manager.js";
import { alarmDefinition, entityId } from "../../alarms/catalog.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";

/** `metal alarm-list [--json]`: the active 200.xxx alarms. */
export function alarmListCommand(program: Command): void {
  withApiTarget(program.command("alarm-list").description("list active maintenance alarms (200.xxx)").option("--json", "print JSON")).action(
    async (opts: ApiTargetOptions & { json?: boolean }) => {
      const api = await apiClient(opts, false);
      const { alarms } = await callApi(() => api.request<{ alarms: ActiveAlarm[] }>("GET", "/v1/alarms"));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(alarms, null, 2)}\n`);
        return;
      }
      const table = new Table({ head: ["id", "entity", "severity", "name", "text", "raised"] });
      for (const a of alarms)
        table.push([a.id, entityId(a.hostname, a.entity), a.severity, alarmDefinition(a.id)?.name ?? "", a.text, new Date(a.raisedAt).toISOString()]);
      process.stdout.write(alarms.length ? `${table.toString()}\n` : "no active alarms\n");
    },
  );
}
