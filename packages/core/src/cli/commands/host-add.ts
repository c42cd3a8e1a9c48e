import type { Command } from "commander";
import type { HostView } from "../../agent/mtc-agent.js";
import { intOption } from "../errors.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";

interface AddOptions extends ApiTargetOptions {
  personality: string;
  subfunctions?: string;
  mgmtIp?: string;
  mgmtMac?: string;
  clusterHostIp?: string;
  pxebootIp?: string;
  bmType?: string;
  bmIp?: string;
  bmPort?: number;
  bmUsername?: string;
  bmSecretFile?: string;
  unlocked?: boolean;
  json?: boolean;
}

/** `metal host-add HOST --personality P ...`: add a host (locked unless --unlocked). The BMC password stays in a 0600 file. */
export function hostAddCommand(program: Command): void {
  withApiTarget(
    program
      .command("host-add <host>")
      .description("add a host to maintenance")
      .requiredOption("--personality <p>", "controller, worker or storage")
      .option("--subfunctions <list>", "comma-separated, e.g. controller,worker for an AIO controller")
      .option("--mgmt-ip <ip>")
      .option("--mgmt-mac <mac>")
      .option("--cluster-host-ip <ip>")
      .option("--pxeboot-ip <ip>")
      .option("--bm-type <type>", "BMC protocol (a plugin's, e.g. ipmi, redfish)")
      .option("--bm-ip <ip>")
      .option("--bm-port <port>", "BMC port when not the protocol's default", intOption("--bm-port", 1, 65535))
      .option("--bm-username <user>")
      .option("--bm-secret-file <file>", "file (mode 0600) with the BMC password, read by the agent")
      .option("--unlocked", "add it unlocked (it is enabled right away)")
      .option("--json", "print JSON"),
  ).action(async (host: string, o: AddOptions) => {
    const body: Record<string, unknown> = { hostname: host, personality: o.personality };
    if (o.subfunctions) body.subfunctions = o.subfunctions.split(",").map((s) => s.trim());
    if (o.mgmtIp) body.mgmtIp = o.mgmtIp;
    if (o.mgmtMac) body.mgmtMac = o.mgmtMac;
    if (o.clusterHostIp) body.clusterHostIp = o.clusterHostIp;
    if (o.pxebootIp) body.pxebootIp = o.pxebootIp;
    if (o.bmType || o.bmIp || o.bmUsername) {
      body.bmc = {
        type: o.bmType,
        address: o.bmIp,
        username: o.bmUsername,
        ...(o.bmPort ? { port: o.bmPort } : {}),
        ...(o.bmSecretFile ? { secretRef: o.bmSecretFile } : {}),
      };
    }
    if (o.unlocked) body.administrative = "unlocked";
    const api = await apiClient(o, true);
    const r = await callApi(() => api.request<{ host: HostView }>("POST", "/v1/hosts", body));
    if (o.json) process.stdout.write(`${JSON.stringify(r.host, null, 2)}\n`);
    else process.stdout.write(`${r.host.hostname}: added (${r.host.administrative}-${r.host.operational}-${r.host.availability})\n`);
  });
}
