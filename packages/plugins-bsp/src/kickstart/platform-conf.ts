import { type InstallRole, systemType, traitsString } from "../hosts/traits.js";

/** /etc/platform/platform.conf as the kickstart writes it (INSTALL_UUID and the mgmt interface come at install time). */
export function platformConf(role: InstallRole, httpPort: number): Record<string, string> {
  return {
    nodetype: role.nodetype,
    subfunction: traitsString(role),
    system_type: systemType(role),
    http_port: String(httpPort),
  };
}

/** The systemd preset the node gets: /etc/systemd/system-preset/10-<name>.preset. */
export function presetName(role: InstallRole): string {
  if (role.aio) return role.lowlatency ? "lowlatency" : "aio";
  if (role.nodetype === "worker") return role.lowlatency ? "worker-lowlatency" : "worker";
  return role.nodetype;
}
