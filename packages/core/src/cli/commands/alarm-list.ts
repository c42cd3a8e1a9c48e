import type { Command } from "commander";
import type { ActiveAlarm } from "../../alarms/alarm-manager.js";
import { alarmDefinition, entityId } from "../../alarms/catalog.js";
import { type OutputOptions, printList, withOutputOptions } from "../output.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";

/** `metal alarm-list [-f FORMAT] [--column NAME]`: the active 200.xxx alarms. */
export function alarmListCommand(program: Command): void {
  withApiTarget(withOutputOptions(program.command("alarm-list").description("list active maintenance alarms (200.xxx)"))).action(
    async (opts: ApiTargetOptions & OutputOptions) => {
      const api = await apiClient(opts, false);
      const { alarms } = await callApi(() => api.request<{ alarms: ActiveAlarm[] }>("GET", "/v1/alarms"));
      printList(opts, alarms, ["id", "entityId", "severity", "name", "text", "raised"], {
        empty: "no active alarms",
        view: (a) => ({ entityId: entityId(a.hostname, a.entity), name: alarmDefinition(a.id)?.name ?? "", raised: new Date(a.raisedAt).toISOString() }),
      });
    },
  );
}
