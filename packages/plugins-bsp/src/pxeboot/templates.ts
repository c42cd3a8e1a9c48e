import type { InstallRole } from "../hosts/traits.js";

/**
 * The per-node install templates (reference B.4). They differ only in kernel (std or rt), `traits=` and
 * `defaultkernel=`. Rendering one for a release is the build-time stage (xxxSW_VERSIONxxx); the result
 * keeps the two run-time tokens that pxeboot-update fills in per host.
 */
export const APPEND_OPTIONS_TOKEN = "xxxAPPEND_OPTIONSxxx";
export const BASE_URL_TOKEN = "xxxBASE_URLxxx";

export const TEMPLATE_NAMES = ["controller", "smallsystem", "smallsystem_lowlatency", "storage", "worker", "worker_lowlatency"] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

interface TemplateSpec {
  readonly label: string;
  readonly kernel: "std" | "rt";
  readonly traits: string;
  readonly defaultKernel: string;
}

const STD_KERNEL = "vmlinuz-*[!t]-amd64";
const RT_KERNEL = "vmlinuz-*-rt-amd64";

export const TEMPLATES: Readonly<Record<TemplateName, TemplateSpec>> = {
  controller: { label: "Standard Controller", kernel: "std", traits: "controller", defaultKernel: STD_KERNEL },
  smallsystem: { label: "All-in-one", kernel: "std", traits: "controller,worker", defaultKernel: STD_KERNEL },
  smallsystem_lowlatency: { label: "All-in-one (lowlatency)", kernel: "rt", traits: "controller,worker,lowlatency", defaultKernel: RT_KERNEL },
  storage: { label: "Storage", kernel: "std", traits: "storage", defaultKernel: STD_KERNEL },
  worker: { label: "Worker", kernel: "std", traits: "worker", defaultKernel: STD_KERNEL },
  worker_lowlatency: { label: "Worker (lowlatency)", kernel: "rt", traits: "worker,lowlatency", defaultKernel: RT_KERNEL },
};

/** sysinv's choice (reference B.2): an AIO controller gets smallsystem, the rest go by personality. */
export function templateFor(role: InstallRole): TemplateName {
  if (role.aio) return role.lowlatency ? "smallsystem_lowlatency" : "smallsystem";
  if (role.nodetype === "worker") return role.lowlatency ? "worker_lowlatency" : "worker";
  return role.nodetype;
}

/** Installed names under pxelinux.cfg.files/: `pxe-<name>-install-<ver>` and its `efi-` twin. */
export function templateFileNames(name: TemplateName, swVersion: string): { bios: string; uefi: string } {
  const bios = `pxe-${name}-install-${swVersion}`;
  return { bios, uefi: `efi-${bios}` };
}

/** The kernel arguments both boot loaders pass, up to the run-time APPEND_OPTIONS. */
function installArgs(spec: TemplateSpec, ver: string): string {
  return [
    "rdinit=/install",
    `defaultkernel=${spec.defaultKernel}`,
    `traits=${spec.traits}`,
    "instname=debian instbr=starlingx instsh=0 instab=0",
    "inst_ostree_root=/dev/mapper/cgts--vg-root--lv inst_ostree_var=/dev/mapper/cgts--vg-var--lv",
    `ks=${BASE_URL_TOKEN}/feed/rel-${ver}/kickstart/kickstart.cfg`,
    `insturl=${BASE_URL_TOKEN}/feed/rel-${ver}/ostree_repo`,
    "console=tty1 biosdevname=0 biosplusefi=1",
  ].join(" ");
}

/** pxelinux (BIOS): one default label; IPAPPEND 2 makes pxelinux add BOOTIF=01-xx-... */
export function biosTemplate(name: TemplateName, ver: string): string {
  const spec = TEMPLATES[name];
  return `SERIAL 0 115200
TIMEOUT 50
DEFAULT menu.c32

# Menu geometry
MENU WIDTH 80
MENU MARGIN 10
MENU PASSWORDMARGIN 3
MENU ROWS 12
MENU TABMSGROW 18
MENU CMDLINEROW 18
MENU ENDROW 24
MENU PASSWORDROW 11
MENU TIMEOUTROW 20

PROMPT 0
NOESCAPE 1
NOCOMPLETE 1
ALLOWOPTIONS 0

LABEL 1
  MENU LABEL ^1) ${spec.label}
  MENU DEFAULT
  KERNEL rel-${ver}/bzImage-${spec.kernel}
  APPEND initrd=rel-${ver}/initrd ${installArgs(spec, ver)} ${APPEND_OPTIONS_TOKEN}
  IPAPPEND 2
`;
}

/**
 * GRUB (UEFI): one menuentry. The glob in defaultkernel= is quoted: unquoted, GRUB expands `*` and `[!t]`
 * against its file system before passing the word on; the installer, not GRUB, must see the pattern.
 * The real-time (lowlatency) entries add `efi=runtime`: PREEMPT_RT kernels disable EFI runtime services by
 * default, and without them the installer cannot write the EFI boot order, so the node PXE-boots again
 * after its install (as the original's efi-debian-pxe-*_lowlatency-install templates do).
 */
export function uefiTemplate(name: TemplateName, ver: string): string {
  const spec = TEMPLATES[name];
  let args = installArgs(spec, ver).replace(`defaultkernel=${spec.defaultKernel}`, `defaultkernel='${spec.defaultKernel}'`);
  if (spec.kernel === "rt") args += " efi=runtime";
  return `default=0
timeout=10
GRUB_TIMEOUT_STYLE='countdown'

menuentry 'UEFI ${spec.label}' {
    linux rel-${ver}/bzImage-${spec.kernel} ${args} BOOTIF=$net_default_mac ${APPEND_OPTIONS_TOKEN}
    initrd rel-${ver}/initrd
}
`;
}
