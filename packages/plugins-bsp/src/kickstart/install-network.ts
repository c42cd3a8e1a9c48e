/**
 * The kickstart's interface setup (reference B.7 step 9, B.8), run outside the chroot against
 * $IMAGE_ROOTFS. The management address comes, in order, from:
 *  1. the boot line's `ip=<ip>,,<gw>,<prefixlen>,<hostname>,<dev>,off` and `vlan=<dev>.<vid>:<dev>`
 *     (miniboot's contract; `metal bsp pxeboot` writes them for a host list entry with `mgmt:`);
 *  2. on a system node install (insturl names pxecontroller), sysinv's `/v1/ihosts/<mac>/mgmt_ip` and
 *     `/v1/isystems/mgmtvlan`, as the original asks;
 *  3. otherwise DHCP on the boot interface.
 * The boot interface is the link whose MAC is BOOTIF's, under its predictable name when udev knows one.
 * Writes /etc/hostname, management_interface= in platform.conf, and ifcfg-lo, ifcfg-pxeboot (a DHCP alias
 * on a system node install), ifcfg-<dev> and ifcfg-vlan<N> under /etc/network/interfaces.d.
 */
export function installNetworkBlock(): string {
  return String.raw`SYSINV_URL="${"$"}{KS_SYSINV_URL:-http://pxecontroller:6385}"
insturl=$(ks_boot_arg insturl)
is_system_node_install() { echo "$insturl" | grep -q pxecontroller; }
ipv6_off() { echo "    post-up echo 0 > /proc/sys/net/ipv6/conf/$1/autoconf; echo 0 > /proc/sys/net/ipv6/conf/$1/accept_ra; echo 0 > /proc/sys/net/ipv6/conf/$1/accept_redirects"; }
# Dotted netmask of an IPv4 prefix length; an IPv6 prefix stays a length (ifupdown takes either).
prefix_netmask() {
    local bits=$1 mask="" i octet
    case "$2" in *:*) echo "$bits"; return ;; esac
    for i in 1 2 3 4; do
        if [ "$bits" -ge 8 ]; then octet=255; bits=$((bits - 8)); else octet=$((256 - (1 << (8 - bits)))); [ "$bits" -eq 0 ] && octet=0; bits=0; fi
        mask="$mask${"$"}{mask:+.}$octet"
    done
    echo "$mask"
}
json_field() { echo "$1" | grep -o "\"$2\": *\"[^\"]*" | sed 's/.*"//'; }

boot_dev="" mgmt_vlan=0 mgmt_ip="" mgmt_nm="" mgmt_gw="" hostname="" floating=""
bootif=$(ks_boot_arg BOOTIF)
mac=""
[ -n "$bootif" ] && mac=$(echo "$bootif" | sed -r -e 's/.*(..-..-..-..-..-..)$/\1/' -e 's/-/:/g' | tr '[:upper:]' '[:lower:]')

ip_arg=$(ks_boot_arg ip)
if [ -n "$ip_arg" ]; then
    # ip=<ip>,,<gw>,<prefixlen>,<hostname>,<dev>,off ; an IPv6 address is written in [..].
    IFS=, read -r a _ g prefix hostname ip_dev _ <<<"$ip_arg"
    mgmt_ip=${"$"}{a#[} mgmt_ip=${"$"}{mgmt_ip%]} mgmt_gw=${"$"}{g#[} mgmt_gw=${"$"}{mgmt_gw%]}
    [ -n "$mgmt_ip" ] && [ -n "$prefix" ] || ks_fail "ip=$ip_arg: want ip=<ip>,,<gw>,<prefixlen>,<hostname>,<dev>,off"
    mgmt_nm=$(prefix_netmask "$prefix" "$mgmt_ip")
    vlan_arg=$(ks_boot_arg vlan)
    if [ -n "$vlan_arg" ]; then
        mgmt_vlan=${"$"}{vlan_arg%%:*} mgmt_vlan=${"$"}{mgmt_vlan##*.}
        case "$mgmt_vlan" in '' | *[!0-9]*) ks_fail "vlan=$vlan_arg: want vlan=<dev>.<vid>:<dev>" ;; esac
    fi
elif [ -n "$mac" ] && is_system_node_install; then
    host_info=$(curl -sf "$SYSINV_URL/v1/ihosts/$mac/mgmt_ip") || ks_fail "cannot fetch the management address from $SYSINV_URL"
    mgmt_ip=$(json_field "$host_info" address) mgmt_nm=$(json_field "$host_info" netmask)
    hostname=$(json_field "$host_info" hostname) floating=$(json_field "$host_info" floating)
    [ -n "$mgmt_ip" ] && [ "$mgmt_ip" != None ] && [ -n "$mgmt_nm" ] && [ "$mgmt_nm" != None ] || ks_fail "sysinv's mgmt_ip answer has no address/netmask: $host_info"
    mgmt_gw=$floating
    mgmt_vlan=$(curl -sf "$SYSINV_URL/v1/isystems/mgmtvlan") || ks_fail "cannot fetch the management VLAN from $SYSINV_URL"
    case "$mgmt_vlan" in '' | *[!0-9]*) ks_fail "sysinv's mgmtvlan answer is not a number: $mgmt_vlan" ;; esac
fi
if [ -n "$mgmt_ip" ] && { [ -z "$mgmt_gw" ] || [ "$mgmt_gw" = None ]; }; then
    # No gateway given: the management address with its last octet (or hextet) set to 1.
    case "$mgmt_ip" in *:*) mgmt_gw=${"$"}{mgmt_ip%:*}:1 ;; *) mgmt_gw=${"$"}{mgmt_ip%.*}.1 ;; esac
fi

# The boot interface: the link with BOOTIF's MAC, else the one ip= names.
if [ -n "$mac" ]; then
    ndev=$(ip -o link show | awk -v mac="$mac" 'tolower($0) ~ "link/ether " mac {sub(/:$/, "", $2); sub(/@.*/, "", $2); print $2; exit}')
    [ -n "$ndev" ] || ks_fail "no interface has BOOTIF's MAC $mac"
    boot_dev=$ndev
    for key in ID_NET_NAME_ONBOARD ID_NET_NAME_SLOT ID_NET_NAME_PATH; do
        alt=$(udevadm info --export --query=property --path="/sys/class/net/$ndev" 2>/dev/null | sed -n "s/^$key=//p" | tr -d "'")
        if [ -n "$alt" ]; then boot_dev=$alt; break; fi
    done
elif [ -n "${"$"}{ip_dev:-}" ]; then
    boot_dev=$ip_dev
else
    ks_log "no BOOTIF and no ip=: the node keeps only the loopback interface"
    boot_dev=lo
fi
ks_log "boot interface $boot_dev, management vlan $mgmt_vlan, address ${"$"}{mgmt_ip:-dhcp}"

IFDIR="$IMAGE_ROOTFS/etc/network/interfaces.d"
mkdir -p -m 0775 "$IFDIR"
[ -e "$IMAGE_ROOTFS/etc/network/interfaces" ] || echo "source /etc/network/interfaces.d/*" > "$IMAGE_ROOTFS/etc/network/interfaces"
[ -n "$hostname" ] && echo "$hostname" > "$IMAGE_ROOTFS/etc/hostname"
[ -n "$floating" ] && [ "$floating" != None ] && echo "nameserver $floating" >> "$IMAGE_ROOTFS/etc/resolv.conf"
family=inet
case "$mgmt_ip" in *:*) family=inet6 ;; esac

if [ "$boot_dev" != lo ] && is_system_node_install; then
    # The pxeboot network stays on a DHCP alias of the boot interface.
    { echo "auto $boot_dev:2"; echo "iface $boot_dev:2 inet dhcp"; ipv6_off "$boot_dev"; } > "$IFDIR/ifcfg-pxeboot"
fi
if [ "$mgmt_vlan" -eq 0 ]; then
    echo "management_interface=$boot_dev" >> "$IMAGE_ROOTFS/etc/platform/platform.conf"
    printf 'auto lo\niface lo inet loopback\n' > "$IFDIR/ifcfg-lo"
    if [ "$boot_dev" != lo ]; then
        if [ -n "$mgmt_ip" ]; then
            { echo "auto $boot_dev"; echo "iface $boot_dev $family static"; echo "    address $mgmt_ip"; echo "    netmask $mgmt_nm"; echo "    gateway $mgmt_gw"; ipv6_off "$boot_dev"; } > "$IFDIR/ifcfg-$boot_dev"
        else
            { echo "auto $boot_dev"; echo "iface $boot_dev inet dhcp"; ipv6_off "$boot_dev"; } > "$IFDIR/ifcfg-$boot_dev"
        fi
    fi
else
    [ "$boot_dev" != lo ] && [ -n "$mgmt_ip" ] || ks_fail "management vlan $mgmt_vlan needs a boot interface and an address"
    echo "management_interface=vlan$mgmt_vlan" >> "$IMAGE_ROOTFS/etc/platform/platform.conf"
    printf 'auto lo\niface lo %s loopback\n' "$family" > "$IFDIR/ifcfg-lo"
    { echo "auto $boot_dev"; echo "iface $boot_dev $family manual"; ipv6_off "$boot_dev"; } > "$IFDIR/ifcfg-$boot_dev"
    { echo "auto vlan$mgmt_vlan"; echo "iface vlan$mgmt_vlan $family static"; echo "    address $mgmt_ip"; echo "    netmask $mgmt_nm"; echo "    gateway $mgmt_gw"; echo "    vlan-raw-device $boot_dev"; ipv6_off "vlan$mgmt_vlan"; } > "$IFDIR/ifcfg-vlan$mgmt_vlan"
fi
rm -f "$IMAGE_ROOTFS/etc/machine-id"`;
}
