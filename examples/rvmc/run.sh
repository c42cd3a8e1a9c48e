#!/usr/bin/env bash
# rvmc.yaml against two Redfish BMC emulators on loopback: both subclouds end with the image inserted, a one-time
# CD boot and power on; `metal bsp rvmc --json` reports each target's steps.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"

start bmc1 metal redfish-emulator --port 0
start bmc2 metal redfish-emulator --port 0
port1="$(wait_for bmc1 'listening on http://127\.0\.0\.1:[0-9]+' | sed -E 's#.*127\.0\.0\.1:([0-9]+).*#\1#')"
port2="$(wait_for bmc2 'listening on http://127\.0\.0\.1:[0-9]+' | sed -E 's#.*127\.0\.0\.1:([0-9]+).*#\1#')"

(umask 077 && sed -e "s/bmc_port: 8001/bmc_port: $port1/" -e "s/bmc_port: 8002/bmc_port: $port2/" "$here/rvmc.yaml" >"$work/rvmc.yaml")
metal bsp rvmc -c "$work/rvmc.yaml" --json >"$work/report.json"
node -e '
  const reports = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const r of reports) console.log(`${r.target}: ${r.ok ? "installed" : `failed at ${r.failedStep}`}`);
  process.exit(reports.length === 2 && reports.every((r) => r.ok) ? 0 : 1);
' "$work/report.json"
