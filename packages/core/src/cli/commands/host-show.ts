import type { Command } from "commander";
import type { HostView } from "../../agent/mtc-agent.js";
import { type OutputOptions, printRecord, withOutputOptions } from "../output.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";

/** The fields `host-show` prints by default, in order (json/yaml print the whole host). */
const FIELDS = [
  "hostname",
  "personality",
  "subfunctions",
  "administrative",
  "operational",
  "availability",
  "subfunction",
  "action",
  "task",
  "fsm",
  "queued",
  "uptime",
  "degradeMask",
  "mgmt",
  "clusterHostIp",
  "pxebootIp",
  "bmc",
] as const;

/** `metal host-show HOST [-f FORMAT] [--column NAME]`: one host, every field, including the running handler and stage. */
export function hostShowCommand(program: Command): void {
  withApiTarget(withOutputOptions(program.command("host-show <host>").description("show one host: states, action, task, FSM stage, BMC, degrade mask"))).action(
    async (host: string, opts: ApiTargetOptions & OutputOptions) => {
      const api = await apiClient(opts, false);
      const r = await callApi(() => api.request<{ host: HostView }>("GET", `/v1/hosts/${encodeURIComponent(host)}`));
      printRecord(opts, r.host, FIELDS, (h) => ({
        subfunction: h.subfunctionOper ? `${h.subfunctionOper}-${h.subfunctionAvail}` : undefined,
        fsm: h.handler ? `${h.handler}:${h.stage}` : undefined,
        degradeMask: `0x${h.degradeMask.toString(16)}`,
        mgmt: [h.mgmtIp, h.mgmtMac].filter(Boolean).join(" "),
        bmc: h.bmc ? `${h.bmc.type} ${h.bmc.address}${h.bmc.port ? `:${h.bmc.port}` : ""} user ${h.bmc.username}` : undefined,
      }));
    },
  );
}
