import type { Command } from "commander";
import type { HaStatus } from "../../ha/ha-node.js";
import { type ApiTargetOptions, apiClient, callApi, withApiTarget } from "./api-target.js";

/** One summary line per controller view: `controller-0  mgmt 5/5  cluster-host 5/5  (worst 5)`. */
function viewLine(v: HaStatus["views"][number]): string {
  const nets = v.networks.map((n) => `${n.network} ${n.responding}/${n.enabled} over ${n.periods}`).join("  ");
  return `  ${v.hostname.padEnd(14)} ${nets || "(no history)"}${v.responding !== undefined ? `  responding ${v.responding}` : ""}`;
}

/** Render `metal ha status` for people. */
export function formatHaStatus(s: HaStatus): string {
  const lines = [
    `this controller   ${s.hostname}: ${s.role}${s.acting ? "" : ` (${s.reason})`}`,
    `active            ${s.leader ? `${s.leader.hostname} epoch ${s.leader.epoch}${s.leader.api ? ` api ${s.leader.api}` : ""}` : "none"}`,
    `lease TTL         ${s.leaseTtlS} s`,
    `members           ${s.members.map((m) => m.hostname).join(", ") || "none"}`,
    `store             etcd ${s.store.prefix}: ${s.store.endpoints.map((e) => `${e.url} ${e.healthy ? "healthy" : "UNHEALTHY"}`).join(", ")}`,
    "cluster views (hosts responding / enabled, averaged over the vault history):",
    ...(s.views.length ? s.views.map(viewLine) : ["  (none published)"]),
  ];
  if (s.lastError) lines.push(`last etcd error   ${s.lastError}`);
  const recent = s.history.slice(-8);
  if (recent.length) {
    lines.push("leadership (latest last):");
    for (const e of recent) lines.push(`  ${new Date(e.at).toISOString()} ${e.kind}${e.epoch !== undefined ? ` epoch ${e.epoch}` : ""}: ${e.reason}`);
  }
  return `${lines.join("\n")}\n`;
}

/** `metal ha status [--json]`: the controller pair as the agent at --url/--config sees it. */
export function haCommand(program: Command): void {
  const ha = program.command("ha").description("the controller pair on etcd (leader election, failover)");
  withApiTarget(
    ha
      .command("status")
      .description("members, active controller, epoch, lease TTL, store endpoints and health, each controller's cluster view")
      .option("--json", "print JSON"),
  ).action(async (opts: ApiTargetOptions & { json?: boolean }) => {
    const api = await apiClient(opts, false);
    const { ha: s } = await callApi(() => api.request<{ ha: HaStatus }>("GET", "/v1/ha"));
    process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : formatHaStatus(s));
  });
}
