import type { Command } from "commander";
import type { HostView } from "../../agent/mtc-agent.js";
import { CliError } from "../errors.js";
import { type OutputOptions, outputFormat, printRecord, withOutputOptions } from "../output.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";
import { type HostFieldOptions, hostFieldsBody, withHostFields } from "./host-fields.js";

/** The fields host-add and host-update print with -f or --column. */
export const HOST_SUMMARY = ["hostname", "personality", "subfunctions", "administrative", "operational", "availability", "action", "mgmtIp", "bmc"] as const;

/** Print the host an add or update answered: one line by default, any format with -f/--column. */
export function printHostResult(o: OutputOptions, h: HostView, verb: string): void {
  if (outputFormat(o) === "table" && !o.column?.length) {
    process.stdout.write(`${h.hostname}: ${verb} (${h.administrative}-${h.operational}-${h.availability})\n`);
    return;
  }
  printRecord(o, h, HOST_SUMMARY, (x) => ({
    bmc: x.bmc ? `${x.bmc.type} ${x.bmc.address}${x.bmc.port ? `:${x.bmc.port}` : ""} user ${x.bmc.username}` : undefined,
  }));
}

/** `metal host-add HOST --personality P --mgmt-ip IP ...`: add a host (locked unless --unlocked). The BMC password stays in a 0600 file. */
export function hostAddCommand(program: Command): void {
  withApiTarget(
    withOutputOptions(
      withHostFields(
        program.command("host-add <host>").description("add a host to maintenance").requiredOption("--personality <p>", "controller, worker or storage"),
      ).option("--unlocked", "add it unlocked (it is enabled right away)"),
    ),
  ).action(async (host: string, o: ApiTargetOptions & OutputOptions & HostFieldOptions & { unlocked?: boolean }) => {
    const body: Record<string, unknown> = { hostname: host, ...hostFieldsBody(o) };
    if (!body.mgmtIp) throw new CliError("--mgmt-ip is required: without a management address the host cannot be heartbeated or commanded");
    if (o.unlocked) body.administrative = "unlocked";
    const api = await apiClient(o, true);
    const r = await callApi(() => api.request<{ host: HostView }>("POST", "/v1/hosts", body));
    printHostResult(o, r.host, "added");
  });
}
