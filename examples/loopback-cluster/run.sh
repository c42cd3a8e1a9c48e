#!/usr/bin/env bash
# An agent and two clients on loopback with a cluster key: controller-0 runs `metal agent` and `metal hbs-agent`,
# worker-0 (127.0.20.10) and worker-1 (127.0.20.11) run `metal client --provisioned` and `metal hbs-client`.
# Both workers are added (locked), come online, worker-0 is unlocked until enabled; a lock datagram forged from
# the controller's address without the key is dropped.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
cd "$work"
cp "$here"/{controller-0,worker-0,worker-1}.yaml .

# The cluster key and the API token: secrets in 0600 files, never on a command line.
# (`openssl rand -hex 32` does as well; node is here for sure.)
hex() { node -e "console.log(require('crypto').randomBytes($1).toString('hex'))"; }
(umask 077 && hex 32 >cluster.key && hex 24 >api-token)

# Free ports on this machine for every port the configs name (other programs may hold the defaults).
defaults=(2101 2102 2118 2115 2119 2103 2113 2106 2116 2104 2107 2122 2124 2125 2110 2112)
read -r -a free <<<"$(node --input-type=module -e "
  const { freeUdpPorts } = await import('$repo/packages/core/dist/src/transport/free-ports.js');
  console.log((await freeUdpPorts(${#defaults[@]})).join(' '));")"
for i in "${!defaults[@]}"; do sed -i -E "s/: ${defaults[$i]}( |\}|$)/: ${free[$i]}\1/" ./*.yaml; done

start agent metal agent -c controller-0.yaml
start hbs-agent metal hbs-agent -c controller-0.yaml
# The workers' "machines": a client that exits 75 has rebooted its simulated host; it boots again 20 s later
# (its flag files rewritten by --provisioned). Bounded: at most 20 boots.
export METAL_LAB_SUPERVISOR="examples/loopback-cluster/run.sh"
machine() {
  local w="$1" boots rc
  for ((boots = 1; boots <= 20; boots++)); do
    rc=0
    metal client -c "$w.yaml" --provisioned || rc=$?
    [ "$rc" = 75 ] || return "$rc"
    # A boot takes a while: long enough for the agent to see the host offline (no mtcAlive for ~10 s).
    echo "$w: rebooting"
    sleep 20
    echo "$w: booted (boot $((boots + 1)))"
  done
}
for w in worker-0 worker-1; do
  start "$w" machine "$w"
  start "$w-hbs" metal hbs-client -c "$w.yaml"
done

export METAL_CONFIG="$work/controller-0.yaml" # the API address and token file come from it
for ((i = 0; i < 900; i++)); do metal host-list >/dev/null 2>&1 && break; sleep 0.2; done
metal host-add worker-0 --personality worker --mgmt-ip 127.0.20.10 --mgmt-mac 52:54:00:20:00:10 -f value --column hostname
metal host-add worker-1 --personality worker --mgmt-ip 127.0.20.11 --mgmt-mac 52:54:00:20:00:11 -f value --column hostname

# state H: admin-oper-avail of host H
state() { metal host-show "$1" -f value --column administrative --column operational --column availability | paste -sd- -; }
for w in worker-0 worker-1; do
  for ((i = 0; i < 600; i++)); do [ "$(state "$w")" = locked-disabled-online ] && break; sleep 0.5; done
done
metal host-unlock worker-0 --wait --timeout "${UNLOCK_TIMEOUT:-400}"
for w in worker-0 worker-1; do echo "$w $(state "$w")"; done

# A lock for worker-0 with its MAC, sent from the controller's address but without the cluster key.
port="$(sed -nE 's/^  clientMgmt: ([0-9]+)$/\1/p' worker-0.yaml)"
hex="$(metal wire encode --json '{"signature":"cmdReq","cmd":"MTC_MSG_LOCKED","mac":"52:54:00:20:00:10","hostname":"worker-0"}')"
node -e "
  const s = require('dgram').createSocket('udp4');
  s.bind(0, '127.0.0.1', () => s.send(Buffer.from(process.argv[1], 'hex'), Number(process.argv[2]), '127.0.20.10', () => s.close()));
" "$hex" "$port"
wait_for worker-0 'dropped an unauthenticated datagram' 60 >/dev/null
[ ! -e worker-0/var/run/.node_locked ] || { echo "worker-0 obeyed a forged lock" >&2; exit 1; }
echo "forged lock from 127.0.0.1 not obeyed (worker-0: dropped an unauthenticated datagram); worker-0 $(state worker-0)"
