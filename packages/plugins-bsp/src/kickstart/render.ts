import { FUNCTIONS_FILE, type InstallPolicy, installFunctions, VALID_TRAIT_SETS } from "./install-functions.js";
import { installNetworkBlock } from "./install-network.js";

/**
 * The unified LAT kickstart of a feed (reference B.7): one `kickstart.cfg` that installs every role. Like
 * the original it reads the role from `traits=` at install time, measures the install disk and the CPUs on
 * the node, and takes the install device, hwsettle, console and security arguments from the boot line; the
 * decisions live in one shell library (install-functions.ts) that the first block writes and every later
 * block sources. Hook blocks in LAT's order, each declaring its interpreter as the original's do.
 */
export const SECTION_ORDER = ["%ks-early", "%pre-part", "%part", "%mkfs", "%post", "%post --nochroot"] as const;
export type SectionName = (typeof SECTION_ORDER)[number];

export const KICKSTART_MAGIC = "# metal-kickstart: 2";
const REQUIRED_EXECS = "bc blkid dd lvcreate mkfs.ext4 partprobe pvremove pvs sgdisk vgcreate wipefs";

/** What the feed's kickstart is generated for: the release, and the platform-CPU policy. */
export interface KickstartOptions extends InstallPolicy {
  readonly swVersion: string;
}

/** The line every block after the first starts with: LAT runs each block as its own script. */
const SOURCE = `KS_LAT="\${KS_LAT:-/tmp/lat}"
. "$KS_LAT/${FUNCTIONS_FILE}"`;

function ksEarly(policy: InstallPolicy): string {
  return `# Every later block sources these functions (the original's /tmp/lat/ks_functions.sh).
KS_LAT="\${KS_LAT:-/tmp/lat}"
mkdir -p "$KS_LAT"
cat > "$KS_LAT/${FUNCTIONS_FILE}" <<'METAL_FUNCTIONS'
${installFunctions(policy).trimEnd()}
METAL_FUNCTIONS
. "$KS_LAT/${FUNCTIONS_FILE}"
ks_role
ks_log "$KS_SYSTEM_TYPE $KS_NODETYPE install, traits=$KS_TRAITS"
udevadm settle --timeout=300
for x in ${REQUIRED_EXECS}; do
    command -v "$x" >/dev/null 2>&1 || ks_fail "required tool $x is missing"
done`;
}

function prePart(): string {
  return `${SOURCE}
ks_role
# Wipe every non-USB disk, but keep Ceph OSD partitions (unless sysinv says wipe_osds) and a controller's platform_backup.
insturl=$(ks_boot_arg insturl)
WIPE_OSDS=false
if echo "$insturl" | grep -q pxecontroller; then
    WIPE_OSDS=$(wget -qO- http://pxecontroller:6385/v1/ihosts/wipe_osds 2>/dev/null || echo false)
fi
KEEP_GUIDS="$KS_CEPH_OSD_GUIDS"
[ "$KS_NODETYPE" = controller ] && KEEP_GUIDS="$KEEP_GUIDS $KS_PLATFORM_BACKUP_GUID"
for disk in $(lsblk -dnpo NAME,TRAN,TYPE | awk '$3 == "disk" && $2 != "usb" {print $1}'); do
    keep=false
    for part in $(lsblk -lnpo NAME,TYPE "$disk" | awk '$2 == "part" {print $1}'); do
        guid=$(blkid -s PART_ENTRY_TYPE -o value "$part" | tr '[:lower:]' '[:upper:]')
        for k in $KEEP_GUIDS; do
            if [ "$guid" = "$k" ] && { [ "$WIPE_OSDS" != true ] || [ "$k" = "$KS_PLATFORM_BACKUP_GUID" ]; }; then keep=true; fi
        done
    done
    if [ "$keep" = true ]; then
        ks_log "keeping $disk: it holds a partition to preserve"
        continue
    fi
    wipefs --all --force "$disk"
done
for vg in $(vgs --noheadings -o vg_name 2>/dev/null); do vgremove -ff -y "$vg"; done
for pv in $(pvs --noheadings -o pv_name 2>/dev/null); do pvremove -ff -y "$pv"; done`;
}

function part(): string {
  return `${SOURCE}
ks_role
# GPT layout of the install disk ($INSTDEV, resolved by LAT from instdev=), sized for the measured disk.
ks_disk_plan "$INSTDEV"
ks_log "install disk $INSTDEV: $KS_DISK_GIB GiB, $(ks_boot_mode) boot; partitions $KS_PARTITIONS"
DEV="$INSTDEV"
BACKUP_NUM=""
if [ -n "$KS_BACKUP_MIB" ]; then
    BACKUP_NUM=$(sgdisk -p "$DEV" 2>/dev/null | awk '$7 == "platform_backup" {print $1}')
fi
if [ -n "$BACKUP_NUM" ]; then
    # Keep the existing platform_backup: delete every other partition, then add the rest around it.
    for n in $(sgdisk -p "$DEV" | awk '$1 ~ /^[0-9]+$/ {print $1}'); do
        [ "$n" = "$BACKUP_NUM" ] || sgdisk --delete="$n" "$DEV"
    done
else
    sgdisk --zap-all "$DEV"
fi
n=0
for p in $KS_PARTITIONS; do
    n=$((n + 1))
    name=\${p%%:*} rest=\${p#*:}
    size=\${rest%%:*} type=\${rest#*:}
    [ "$name" = platform_backup ] && [ -n "$BACKUP_NUM" ] && continue
    if [ "$size" = 0 ]; then size=0; else size="+\${size}M"; fi
    sgdisk --new="$n:0:$size" --typecode="$n:$type" --change-name="$n:$name" "$DEV"
done
partprobe "$DEV"
udevadm settle --timeout=300`;
}

function mkfs(): string {
  // QUIRK fixed: the original creates var-lv with the root size (LV_SZ_ROOT); var-lv gets its own size here.
  return `${SOURCE}
ks_role
ks_disk_plan "$INSTDEV"
pv_number=0 n=0
for p in $KS_PARTITIONS; do n=$((n + 1)); [ "\${p%%:*}" = platform_pv ] && pv_number=$n; done
PV=$(lsblk -lnpo NAME "$INSTDEV" | sed -n "$((pv_number + 1))p")
pvcreate -ff -y "$PV"
vgcreate -y cgts-vg "$PV"
lvcreate -y -n root-lv -L "\${KS_LV_ROOT}M" cgts-vg
lvcreate -y -n var-lv -L "\${KS_LV_VAR}M" cgts-vg
lvcreate -y -n log-lv -L "\${KS_LV_LOG}M" cgts-vg
lvcreate -y -n scratch-lv -L "\${KS_LV_SCRATCH}M" cgts-vg
for lv in root var log scratch; do
    mkfs.ext4 -F -L "$lv-lv" "/dev/cgts-vg/$lv-lv"
done
if [ -n "$KS_BACKUP_MIB" ]; then
    BACKUP=$(blkid -t PARTLABEL=platform_backup -o device | head -n1)
    blkid -s TYPE -o value "$BACKUP" | grep -q ext4 || mkfs.ext4 -F -L platform_backup "$BACKUP"
fi`;
}

function postPlatform(): string {
  return `${SOURCE}
ks_role
useradd -m -s /bin/bash -G sudo sysadmin || true
passwd -l root
userdel -r admin 2>/dev/null || true

# platform.conf: the role, and the feed's HTTP port from insturl (8080 when it names none).
http_port=$(ks_boot_arg insturl | sed -n 's#^[a-z]*://[^/]*:\\([0-9][0-9]*\\)/.*#\\1#p')
mkdir -p "$KS_ROOT/etc/platform"
cat > "$KS_ROOT/etc/platform/platform.conf" <<PLATFORM_CONF
nodetype=$KS_NODETYPE
subfunction=$KS_TRAITS
system_type=$KS_SYSTEM_TYPE
http_port=\${http_port:-8080}
PLATFORM_CONF
mkdir -p "$KS_ROOT/etc/systemd/system-preset"
ln -sf "/etc/systemd/$KS_PRESET.preset" "$KS_ROOT/etc/systemd/system-preset/10-$KS_PRESET.preset"
if [ "$KS_AIO" = true ]; then
    # All-in-one: memory and CPUs the platform keeps on NUMA node 0, measured on this node.
    cat > "$KS_ROOT/etc/platform/worker_reserved.conf" <<WORKER_RESERVED
WORKER_BASE_RESERVED=("node0:$(ks_aio_reserved_mib)MB:1")
WORKER_CPU_LIST="0-$(($(ks_cpu_count) - 1))"
WORKER_RESERVED
fi`;
}

function postKernel(): string {
  return `${SOURCE}
ks_role
# Kernel arguments of the installed node, read by grub.cfg.stx from boot.env.
ks_kernel_params
ks_log "kernel_params: $KS_KERNEL_PARAMS"
mkdir -p "$KS_ROOT/boot/efi/EFI/BOOT"
grub-editenv "$KS_ROOT/boot/efi/EFI/BOOT/boot.env" set kernel_params="$KS_KERNEL_PARAMS"`;
}

function postInstallUuid(swVersion: string): string {
  return `${SOURCE}
# install_uuid: the first controller (or a USB install) makes one; every other node fetches it.
insturl=$(ks_boot_arg insturl)
FEED="$IMAGE_ROOTFS/var/www/pages/feed/rel-${swVersion}"
if echo "$insturl" | grep -q pxecontroller; then
    INSTALL_UUID=$(wget -qO- "\${insturl%/ostree_repo}/install_uuid") || ks_fail "cannot fetch install_uuid"
else
    INSTALL_UUID=$(cat "$KS_PROC/sys/kernel/random/uuid")
    mkdir -p "$FEED"
    echo "$INSTALL_UUID" > "$FEED/install_uuid"
fi
echo "INSTALL_UUID=$INSTALL_UUID" >> "$IMAGE_ROOTFS/etc/platform/platform.conf"`;
}

/** One block: its LAT header (with the interpreter, as the original declares it), body and %end. */
function block(section: SectionName, body: string): string {
  const [name, ...options] = section.split(" ");
  return `${[name, "--interpreter=/bin/bash", ...options].join(" ")}\n${body}\n%end`;
}

export function renderKickstart(options: KickstartOptions): string {
  const blocks: Array<[SectionName, string]> = [
    ["%ks-early", ksEarly(options)],
    ["%pre-part", prePart()],
    ["%part", part()],
    ["%mkfs", mkfs()],
    ["%post", postPlatform()],
    ["%post", postKernel()],
    ["%post --nochroot", `${SOURCE}\n${installNetworkBlock()}`],
    ["%post --nochroot", postInstallUuid(options.swVersion)],
  ];
  const header = [
    KICKSTART_MAGIC,
    `# metal-traits: ${VALID_TRAIT_SETS.join(" ")}`,
    `# metal-options: ${JSON.stringify({ swVersion: options.swVersion, ...(options.platformCpus !== undefined ? { platformCpus: options.platformCpus } : {}) })}`,
    `# The unified kickstart of release ${options.swVersion}: the role comes from traits= on the boot line, the sizes`,
    "# and the CPU map from the node's own disk and CPUs. Generated by `metal bsp kickstart`; preview a role on given",
    "# hardware with `metal bsp kickstart --traits T --disk-gib N --cpus N`; check an edited copy with `--check FILE`.",
  ].join("\n");
  return `${header}\n\n${blocks.map(([s, b]) => block(s, b)).join("\n\n")}\n`;
}
