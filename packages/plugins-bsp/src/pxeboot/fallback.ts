/**
 * The menus an unconfigured node loops in until its per-MAC file exists (reference B.5).
 * BIOS: `default` (dynamic mgmt addressing) and `default.static`; the last label chains pxelinux.0 again.
 * UEFI: `grub.cfg` builds the dashed MAC from $net_default_mac, tries efi-01-<mac>.cfg and otherwise falls
 * back to an entry that reloads grub.cfg itself (every `timeout` seconds).
 */

const WAIT_LINES = ["Waiting for this node to be configured.", "Please configure the personality for this node from the controller node in order to proceed."];
const STATIC_LINES = [
  "This system uses static management addressing.",
  "Add this node from the controller with 'system host-add',",
  "giving its MAC address and management IP address,",
  "then configure its personality to proceed.",
];

function biosMenu(lines: readonly string[]): string {
  const labels = lines.map((text, i) => `LABEL ${i + 1}\n  MENU LABEL ${text}\n  MENU DISABLE\n`).join("\n");
  return `SERIAL 0 115200
TIMEOUT 100
DEFAULT menu.c32
PROMPT 0
NOESCAPE 1
NOCOMPLETE 1
ALLOWOPTIONS 0

MENU TITLE metal: node not configured yet

${labels}
LABEL ${lines.length + 1}
  MENU LABEL Retry (boot from the network again)
  MENU DEFAULT
  KERNEL pxelinux.0
`;
}

export function biosDefault(): string {
  return biosMenu(WAIT_LINES);
}

export function biosDefaultStatic(): string {
  return biosMenu([...WAIT_LINES.slice(0, 1), ...STATIC_LINES]);
}

function grubMenu(lines: readonly string[]): string {
  // Entry 0 tries this node's file; text entries follow; the last one reloads this menu.
  const fallback = lines.length + 1;
  const text = lines.map((l) => `menuentry '${l.replaceAll("'", "")}' {\n    echo 'This node is not configured yet.'\n}\n`).join("\n");
  return `timeout=10
fallback=${fallback}
# The per-MAC files are generated on the controller, not signed: tell LAT to skip their signature check.
set skip_check_cfg=1
export skip_check_cfg

regexp --set=1:m1 --set=2:m2 --set=3:m3 --set=4:m4 --set=5:m5 --set=6:m6 '^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$' "$net_default_mac"
set conf="\${m1}-\${m2}-\${m3}-\${m4}-\${m5}-\${m6}"

menuentry 'Boot this node from its configuration' {
    configfile "pxelinux.cfg/efi-01-\${conf}.cfg"
}

${text}
menuentry 'Retry: reload this menu' {
    configfile pxelinux.cfg/grub.cfg
}
`;
}

export function grubDefault(): string {
  return grubMenu(WAIT_LINES.slice(0, 2).concat(["Menu 0 boots this node once it is configured.", "Otherwise this menu reloads in 10 seconds."]));
}

export function grubDefaultStatic(): string {
  return grubMenu([WAIT_LINES[0] as string, ...STATIC_LINES, "Menu 0 boots this node once it is configured.", "Otherwise this menu reloads in 10 seconds."]);
}
