import { type InstallRole, systemType, traitsString } from "../hosts/traits.js";
import { CEPH_OSD_GUIDS, type DiskLayout, diskLayout, PLATFORM_BACKUP_GUID } from "./disk-layout.js";
import { aioReservedMiB, kernelArgs } from "./kernel-args.js";
import { platformConf, presetName } from "./platform-conf.js";
import type { Profile } from "./profile.js";

/**
 * A LAT kickstart for one role and profile. The original is one 3,500-line script that works out the role
 * from `traits=` at install time; here the decisions (layout, sizes, platform.conf, kernel arguments) are
 * made at generation time and written out as plain values, and the install-time script only checks that
 * the boot line's traits agree. Hook blocks in LAT's order; each body is bash.
 */
export const SECTION_ORDER = ["%ks-early", "%pre-part", "%part", "%mkfs", "%post", "%post --nochroot"] as const;
export type SectionName = (typeof SECTION_ORDER)[number];

export const KICKSTART_MAGIC = "# metal-kickstart: 1";
const REQUIRED_EXECS = "bc blkid dd lvcreate mkfs.ext4 partprobe pvremove pvs sgdisk vgcreate wipefs";

/**
 * Each LAT hook runs as its own script, so a block that needs a boot parameter reads it from the kernel
 * command line itself (the original evals every key=value in %ks-early and sources the result later).
 */
function fromCmdline(name: string): string {
  return `${name}=$(tr ' ' '\\n' < /proc/cmdline | sed -n 's/^${name}=//p' | tail -n1)`;
}

function ksEarly(role: InstallRole): string {
  const traits = traitsString(role);
  return `# Traits this kickstart was generated for; the boot line must agree (order does not matter).
EXPECTED_TRAITS="${traits}"
BOOT_TRAITS=""
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        traits=*) BOOT_TRAITS="\${arg#traits=}" ;;
    esac
done
# A PREEMPT_RT kernel forces lowlatency.
if uname -v | grep -q PREEMPT_RT && ! echo ",$BOOT_TRAITS," | grep -q ",lowlatency,"; then
    BOOT_TRAITS="$BOOT_TRAITS,lowlatency"
fi
sorted() { echo "$1" | tr ',' '\\n' | sort | paste -sd, -; }
if [ "$(sorted "$BOOT_TRAITS")" != "$(sorted "$EXPECTED_TRAITS")" ]; then
    echo "kickstart is for traits=$EXPECTED_TRAITS but the node booted with traits=$BOOT_TRAITS" >&2
    exit 1
fi
echo "${role.aio ? "All-in-one" : role.nodetype}${role.lowlatency ? "-lowlatency" : ""} install"
udevadm settle --timeout=300
for x in ${REQUIRED_EXECS}; do
    command -v "$x" >/dev/null 2>&1 || { echo "required tool $x is missing" >&2; exit 1; }
done`;
}

function prePart(role: InstallRole): string {
  const keepBackup = role.nodetype === "controller";
  return `# Wipe every non-USB disk, but keep Ceph OSD partitions (unless sysinv says wipe_osds)${keepBackup ? " and this controller's platform_backup" : ""}.
${fromCmdline("insturl")}
WIPE_OSDS=false
if echo "$insturl" | grep -q pxecontroller; then
    WIPE_OSDS=$(wget -qO- http://pxecontroller:6385/v1/ihosts/wipe_osds 2>/dev/null || echo false)
fi
KEEP_GUIDS="${CEPH_OSD_GUIDS.join(" ")}${keepBackup ? ` ${PLATFORM_BACKUP_GUID}` : ""}"
for disk in $(lsblk -dnpo NAME,TRAN,TYPE | awk '$3 == "disk" && $2 != "usb" {print $1}'); do
    keep=false
    for part in $(lsblk -lnpo NAME,TYPE "$disk" | awk '$2 == "part" {print $1}'); do
        guid=$(blkid -s PART_ENTRY_TYPE -o value "$part" | tr '[:lower:]' '[:upper:]')
        for k in $KEEP_GUIDS; do
            if [ "$guid" = "$k" ] && { [ "$WIPE_OSDS" != true ] || [ "$k" = "${PLATFORM_BACKUP_GUID}" ]; }; then keep=true; fi
        done
    done
    if [ "$keep" = true ]; then
        echo "keeping $disk: it holds a partition to preserve"
        continue
    fi
    wipefs --all --force "$disk"
done
for vg in $(vgs --noheadings -o vg_name 2>/dev/null); do vgremove -ff -y "$vg"; done
for pv in $(pvs --noheadings -o pv_name 2>/dev/null); do pvremove -ff -y "$pv"; done`;
}

function part(layout: DiskLayout): string {
  const lines = [
    "# GPT layout of the install disk ($INSTDEV, resolved by LAT from instdev=).",
    'DEV="$INSTDEV"',
    ...(layout.backupMiB !== undefined
      ? [
          "# Keep an existing platform_backup: delete every other partition, then add the rest around it.",
          `BACKUP_NUM=$(sgdisk -p "$DEV" 2>/dev/null | awk '$7 == "platform_backup" {print $1}')`,
          'if [ -n "$BACKUP_NUM" ]; then',
          "    for n in $(sgdisk -p \"$DEV\" | awk '$1 ~ /^[0-9]+$/ {print $1}'); do",
          '        [ "$n" = "$BACKUP_NUM" ] || sgdisk --delete="$n" "$DEV"',
          "    done",
          "else",
          '    sgdisk --zap-all "$DEV"',
          "fi",
        ]
      : ['sgdisk --zap-all "$DEV"']),
  ];
  layout.partitions.forEach((p, i) => {
    const n = i + 1;
    const size = p.sizeMiB === undefined ? "0" : `+${p.sizeMiB}M`;
    const cmd = `sgdisk --new=${n}:0:${size} --typecode=${n}:${p.type} --change-name=${n}:${p.name} "$DEV"`;
    lines.push(p.name === "platform_backup" ? `[ -n "$BACKUP_NUM" ] || ${cmd}` : cmd);
  });
  lines.push('partprobe "$DEV"', "udevadm settle --timeout=300");
  return lines.join("\n");
}

function mkfs(layout: DiskLayout): string {
  const v = layout.volumes;
  const pvNumber = layout.partitions.findIndex((p) => p.name === "platform_pv") + 1;
  const backup =
    layout.backupMiB !== undefined
      ? `
BACKUP=$(blkid -t PARTLABEL=platform_backup -o device | head -n1)
blkid -s TYPE -o value "$BACKUP" | grep -q ext4 || mkfs.ext4 -F -L platform_backup "$BACKUP"`
      : "";
  // QUIRK fixed: the original creates var-lv with the root size (LV_SZ_ROOT); var-lv gets its own size here.
  return `PV=$(lsblk -lnpo NAME "$INSTDEV" | sed -n '${pvNumber + 1}p')
pvcreate -ff -y "$PV"
vgcreate -y cgts-vg "$PV"
lvcreate -y -n root-lv -L ${v.root}M cgts-vg
lvcreate -y -n var-lv -L ${v.var}M cgts-vg
lvcreate -y -n log-lv -L ${v.log}M cgts-vg
lvcreate -y -n scratch-lv -L ${v.scratch}M cgts-vg
for lv in root var log scratch; do
    mkfs.ext4 -F -L "$lv-lv" "/dev/cgts-vg/$lv-lv"
done${backup}`;
}

function post(role: InstallRole, profile: Profile): string {
  const conf = Object.entries(platformConf(role, profile.httpPort))
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
  const reserved = role.aio
    ? `
# All-in-one: memory and CPUs the platform keeps on NUMA node 0.
cat > /etc/platform/worker_reserved.conf <<'WORKER_RESERVED'
WORKER_BASE_RESERVED=("node0:${aioReservedMiB(profile.node0MemoryMiB)}MB:1")
WORKER_CPU_LIST="0-${profile.cpus - 1}"
WORKER_RESERVED
`
    : "";
  return `useradd -m -s /bin/bash -G sudo sysadmin || true
passwd -l root
userdel -r admin 2>/dev/null || true

mkdir -p /etc/platform
cat > /etc/platform/platform.conf <<'PLATFORM_CONF'
${conf}
PLATFORM_CONF
mkdir -p /etc/systemd/system-preset
ln -sf /etc/systemd/${presetName(role)}.preset /etc/systemd/system-preset/10-${presetName(role)}.preset
${reserved}
# Kernel arguments of the installed node, read by grub.cfg.stx from boot.env.
mkdir -p /boot/efi/EFI/BOOT
grub-editenv /boot/efi/EFI/BOOT/boot.env set kernel_params="${kernelArgs(role, profile).join(" ")}"`;
}

function postNochroot(swVersion: string): string {
  return `# install_uuid: the first controller (or a USB install) makes one; every other node fetches it.
${fromCmdline("insturl")}
FEED="$IMAGE_ROOTFS/var/www/pages/feed/rel-${swVersion}"
if echo "$insturl" | grep -q pxecontroller; then
    INSTALL_UUID=$(wget -qO- "\${insturl%/ostree_repo}/install_uuid") || { echo "cannot fetch install_uuid" >&2; exit 1; }
else
    INSTALL_UUID=$(cat /proc/sys/kernel/random/uuid)
    mkdir -p "$FEED"
    echo "$INSTALL_UUID" > "$FEED/install_uuid"
fi
echo "INSTALL_UUID=$INSTALL_UUID" >> "$IMAGE_ROOTFS/etc/platform/platform.conf"`;
}

export function renderKickstart(role: InstallRole, profile: Profile): string {
  const layout = diskLayout(role, profile);
  const bodies: Record<SectionName, string> = {
    "%ks-early": ksEarly(role),
    "%pre-part": prePart(role),
    "%part": part(layout),
    "%mkfs": mkfs(layout),
    "%post": post(role, profile),
    "%post --nochroot": postNochroot(profile.swVersion),
  };
  const header = [
    KICKSTART_MAGIC,
    `# metal-traits: ${traitsString(role)}`,
    `# metal-profile: ${JSON.stringify(profile)}`,
    `# ${systemType(role)} ${role.nodetype}${role.lowlatency ? " (lowlatency)" : ""}, release ${profile.swVersion}, ${profile.diskGiB} GiB ${profile.bootMode} install disk.`,
    "# Generated by `metal bsp kickstart`; check an edited copy with `metal bsp kickstart --check FILE`.",
  ].join("\n");
  const blocks = SECTION_ORDER.map((s) => `${s}\n${bodies[s]}\n%end`);
  return `${header}\n\n${blocks.join("\n\n")}\n`;
}
