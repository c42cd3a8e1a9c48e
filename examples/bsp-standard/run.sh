#!/usr/bin/env bash
# The BSP files of a standard system from hosts.yaml: the pxeboot tree (BIOS and UEFI per MAC, the fallback menus),
# the dnsmasq config serving it, and the feed's unified kickstart; each checked by its own tool
# (dnsmasq --test, grub-script-check, metal bsp kickstart --check).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"

metal bsp pxeboot --hosts "$here/hosts.yaml" --out "$work/tftp" --progress never
metal bsp dnsmasq --hosts "$here/hosts.yaml" --out "$work/dnsmasq.conf" --tftp-root "$work/tftp"
dnsmasq --test -C "$work/dnsmasq.conf"
for f in "$work"/tftp/pxelinux.cfg/efi-01-* "$work/tftp/pxelinux.cfg/grub.cfg"; do
  case "$f" in *.cfg) [ "$f" = "$work/tftp/pxelinux.cfg/grub.cfg" ] || continue ;; esac
  grub-script-check "$f"
done
echo "grub menus: $(find "$work/tftp/pxelinux.cfg" -name 'efi-01-*' ! -name '*.cfg' | wc -l) UEFI host menus pass grub-script-check"
grep -c '^dhcp-host=' "$work/dnsmasq.conf" | sed 's/$/ dhcp-host entries/'
metal bsp kickstart --out "$work/kickstart.cfg"
metal bsp kickstart --check "$work/kickstart.cfg"
