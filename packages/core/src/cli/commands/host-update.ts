import type { Command } from "commander";
import type { HostView } from "../../agent/mtc-agent.js";
import { CliError } from "../errors.js";
import { type OutputOptions, withOutputOptions } from "../output.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";
import { printHostResult } from "./host-add.js";
import { type HostFieldOptions, hostFieldsBody, withHostFields } from "./host-fields.js";

/**
 * `metal host-update HOST [--personality P] [--mgmt-ip IP] [--bm-type T --bm-ip A ...]`: change a host's
 * provisioning (sysinv modify): addresses, MAC, BMC type/address/user/secret file, and, on a locked host, its
 * personality. BMC options given alone change only that field of the current BMC.
 */
export function hostUpdateCommand(program: Command): void {
  withApiTarget(
    withOutputOptions(
      withHostFields(
        program
          .command("host-update <host>")
          .description("change a host's provisioning: addresses, MAC, BMC, personality (locked hosts)")
          .option("--personality <p>", "controller, worker or storage (the host must be locked)"),
      ),
    ),
  ).action(async (host: string, o: ApiTargetOptions & OutputOptions & HostFieldOptions) => {
    const api = await apiClient(o, true);
    const touchesBmc = [o.bmType, o.bmIp, o.bmUsername, o.bmPort, o.bmSecretFile].some((v) => v !== undefined);
    const current = touchesBmc ? (await callApi(() => api.request<{ host: HostView }>("GET", `/v1/hosts/${encodeURIComponent(host)}`))).host.bmc : undefined;
    const body = hostFieldsBody(o, current);
    if (!Object.keys(body).length)
      throw new CliError("nothing to update: give at least one of --personality, --mgmt-ip, --mgmt-mac, --cluster-host-ip, --pxeboot-ip, --bm-*");
    const r = await callApi(() => api.request<{ host: HostView }>("PATCH", `/v1/hosts/${encodeURIComponent(host)}`, body));
    printHostResult(o, r.host, "updated");
  });
}
