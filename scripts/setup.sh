#!/usr/bin/env bash
# Idempotent setup for a fresh machine.
#   setup.sh node   pnpm and the workspace's node modules
#   setup.sh peers  the Debian packages the tests drive as real peers (needs root)
#   setup.sh all    both
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
what="${1:-all}"

# Debian packages and the command each provides; a missing command means install.
PEERS=(
  "ipmitool:ipmitool" "ipmi_sim:openipmi" "snmptrapd:snmptrapd" "snmptrap:snmp" "ip:iproute2" "etcd:etcd-server"
  "dnsmasq:dnsmasq" "grub-script-check:grub-common" "redfishtool:redfishtool" "socat:socat"
  "curl:curl" "gcc:gcc" "bridge:iproute2" "tftp:tftp-hpa" "sgdisk:gdisk" "grub-editenv:grub-common"
  "busybox:busybox" "chromium:chromium" "promtool:prometheus" "ps:procps"
)
# Python modules the tests drive, checked with Debian's own python3 (a pyenv python3 may come first on PATH).
PY_PEERS=("sushy:python3-sushy")

setup_node() {
  if ! command -v pnpm >/dev/null 2>&1; then
    echo "setup: installing pnpm 10 (corepack's signature check fails here; pnpm 11 needs Node 22)"
    npm install -g pnpm@10 >/dev/null 2>&1 || npm install -g pnpm@10
  fi
  local stamp="$here/node_modules/.modules.yaml"
  if [ ! -f "$stamp" ] || [ "$here/pnpm-lock.yaml" -nt "$stamp" ]; then
    echo "setup: installing node modules"
    (cd "$here" && pnpm install --frozen-lockfile --reporter=append-only) || (cd "$here" && pnpm install --reporter=append-only)
  fi
}

setup_peers() {
  local missing=()
  for pair in "${PEERS[@]}"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  for pair in "${PY_PEERS[@]}"; do
    /usr/bin/python3 -c "import ${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing test peers (${missing[*]}); run 'sudo bash scripts/setup.sh peers'" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # dnsmasq's package starts a system service; the tests run their own instances.
  (systemctl stop dnsmasq 2>/dev/null || service dnsmasq stop 2>/dev/null || pkill -x dnsmasq 2>/dev/null) || true
}

case "$what" in
  node) setup_node ;;
  peers) setup_peers ;;
  all) setup_peers; setup_node ;;
  *) echo "usage: setup.sh node|peers|all" >&2; exit 2 ;;
esac
