import type { Command } from "commander";
import type { HostView } from "../../agent/mtc-agent.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";

/** `metal host-show HOST [--json]`: one host, every field, including the running handler and stage. */
export function hostShowCommand(program: Command): void {
  withApiTarget(
    program.command("host-show <host>").description("show one host: states, action, task, FSM stage, BMC, degrade mask").option("--json", "print JSON"),
  ).action(async (host: string, opts: ApiTargetOptions & { json?: boolean }) => {
    const api = await apiClient(opts, false);
    const r = await callApi(() => api.request<{ host: HostView }>("GET", `/v1/hosts/${encodeURIComponent(host)}`));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(r.host, null, 2)}\n`);
      return;
    }
    const h = r.host;
    const rows: Array<[string, unknown]> = [
      ["hostname", h.hostname],
      ["personality", h.personality],
      ["subfunctions", h.subfunctions.join(",")],
      ["administrative", h.administrative],
      ["operational", h.operational],
      ["availability", h.availability],
      ["subfunction", h.subfunctionOper ? `${h.subfunctionOper}-${h.subfunctionAvail}` : undefined],
      ["action", h.action],
      ["task", h.task],
      ["fsm", h.handler ? `${h.handler}:${h.stage}` : undefined],
      ["queued", h.queued.length ? h.queued.join(",") : undefined],
      ["uptime", h.uptime],
      ["degrade mask", `0x${h.degradeMask.toString(16)}`],
      ["mgmt", [h.mgmtIp, h.mgmtMac].filter(Boolean).join(" ")],
      ["cluster-host", h.clusterHostIp],
      ["pxeboot", h.pxebootIp],
      ["bmc", h.bmc ? `${h.bmc.type} ${h.bmc.address} user ${h.bmc.username}` : undefined],
    ];
    for (const [k, v] of rows) if (v !== undefined && v !== "") process.stdout.write(`${k.padEnd(15)} ${String(v)}\n`);
  });
}
