import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Host, HostList } from "../hosts/host-list.js";
import { macDashes, pxeFileNames } from "../hosts/mac.js";
import { appendOptions, substitute } from "./append-options.js";
import { biosDefault, biosDefaultStatic, grubDefault, grubDefaultStatic } from "./fallback.js";
import { biosTemplate, TEMPLATE_NAMES, type TemplateName, templateFileNames, templateFor, uefiTemplate } from "./templates.js";

/** What `metal bsp pxeboot` wrote, relative to the output directory. */
export interface PxebootHostResult {
  hostname: string;
  mac: string;
  template: TemplateName;
  files: string[];
}
export interface PxebootResult {
  templates: string[];
  fallback: string[];
  hosts: PxebootHostResult[];
}

export interface PxebootOptions {
  /** Called after each host (done, total); the CLI drives its progress bar from it. */
  onProgress?: (done: number, total: number) => void;
  /** Hosts per batch between yields to the event loop, so a progress bar can redraw. */
  batch?: number;
}

/** The tree layout under the TFTP root: pxelinux.cfg/ holds live files, pxelinux.cfg.files/ the templates. */
export const LIVE_DIR = "pxelinux.cfg";
export const TEMPLATE_DIR = "pxelinux.cfg.files";

function write(root: string, rel: string, text: string): string {
  writeFileSync(join(root, rel), text, { mode: 0o644 });
  return rel;
}

/**
 * Delete a host's three files (sysinv's _remove_pxe_config); missing files are fine. `existing`, when
 * given, lists the live directory, so a fresh tree costs no failed unlink per file.
 */
export function removeHostFiles(outDir: string, mac: string, existing?: ReadonlySet<string>): string[] {
  const names = pxeFileNames(mac);
  const all = [names.bios, names.uefi, names.uefiCfg];
  for (const n of all) if (!existing || existing.has(n)) rmSync(join(outDir, LIVE_DIR, n), { force: true });
  return all.map((n) => `${LIVE_DIR}/${n}`);
}

/**
 * Write one host's BIOS and UEFI files and the `.cfg` link, from the release's rendered templates.
 * The old files go first, as sysinv does, so a personality change never leaves a stale link behind.
 */
function writeHost(
  outDir: string,
  host: Host,
  rendered: ReadonlyMap<TemplateName, { bios: string; uefi: string }>,
  baseUrl: string,
  existing: ReadonlySet<string>,
): PxebootHostResult {
  const template = templateFor(host.role);
  const t = rendered.get(template)!;
  const names = pxeFileNames(host.mac);
  removeHostFiles(outDir, host.mac, existing);
  const values = { appendOptions: appendOptions(host), baseUrl };
  const files = [
    write(outDir, `${LIVE_DIR}/${names.bios}`, substitute(t.bios, values)),
    write(outDir, `${LIVE_DIR}/${names.uefi}`, substitute(t.uefi, values)),
  ];
  // Relative link, so the tree can be moved or served from another root.
  symlinkSync(names.uefi, join(outDir, LIVE_DIR, names.uefiCfg));
  files.push(`${LIVE_DIR}/${names.uefiCfg}`);
  return { hostname: host.hostname, mac: host.mac, template, files };
}

/** `01-aa-bb-...`, `efi-01-...` and its `.cfg`: the per-MAC files, and the MAC each belongs to. */
const PER_MAC_FILE = /^(?:efi-)?01-((?:[0-9a-f]{2}-){5}[0-9a-f]{2})(?:\.cfg)?$/;

/** Delete per-MAC files of hosts that are no longer in the list (a host deleted from the system). */
export function pruneStaleHosts(outDir: string, list: HostList): string[] {
  const keep = new Set(list.hosts.map((h) => macDashes(h.mac)));
  const removed: string[] = [];
  for (const name of readdirSync(join(outDir, LIVE_DIR))) {
    const mac = PER_MAC_FILE.exec(name)?.[1];
    if (mac && !keep.has(mac)) {
      rmSync(join(outDir, LIVE_DIR, name), { force: true });
      removed.push(`${LIVE_DIR}/${name}`);
    }
  }
  return removed.sort();
}

/** Generate the whole pxeboot tree for a host list: templates, fallback menus, one set of files per host. */
export async function generatePxeboot(list: HostList, outDir: string, options: PxebootOptions = {}): Promise<PxebootResult> {
  const { system } = list;
  mkdirSync(join(outDir, LIVE_DIR), { recursive: true });
  mkdirSync(join(outDir, TEMPLATE_DIR), { recursive: true });

  const rendered = new Map<TemplateName, { bios: string; uefi: string }>();
  const templates: string[] = [];
  for (const name of TEMPLATE_NAMES) {
    const t = { bios: biosTemplate(name, system.swVersion), uefi: uefiTemplate(name, system.swVersion) };
    rendered.set(name, t);
    const f = templateFileNames(name, system.swVersion);
    templates.push(write(outDir, `${TEMPLATE_DIR}/${f.bios}`, t.bios), write(outDir, `${TEMPLATE_DIR}/${f.uefi}`, t.uefi));
  }

  const staticMode = system.mgmtAddressing === "static";
  templates.push(
    write(outDir, `${TEMPLATE_DIR}/default`, biosDefault()),
    write(outDir, `${TEMPLATE_DIR}/default.static`, biosDefaultStatic()),
    write(outDir, `${TEMPLATE_DIR}/grub.cfg`, grubDefault()),
    write(outDir, `${TEMPLATE_DIR}/grub.cfg.static`, grubDefaultStatic()),
  );
  // The live fallback menus follow the management addressing mode.
  const fallback = [
    write(outDir, `${LIVE_DIR}/default`, staticMode ? biosDefaultStatic() : biosDefault()),
    write(outDir, `${LIVE_DIR}/grub.cfg`, staticMode ? grubDefaultStatic() : grubDefault()),
  ];

  const existing = new Set(readdirSync(join(outDir, LIVE_DIR)));
  const hosts: PxebootHostResult[] = [];
  const total = list.hosts.length;
  const batch = options.batch ?? 250;
  for (let i = 0; i < total; i++) {
    hosts.push(writeHost(outDir, list.hosts[i]!, rendered, system.baseUrl, existing));
    if ((i + 1) % batch === 0 || i + 1 === total) {
      options.onProgress?.(i + 1, total);
      await new Promise<void>((r) => setImmediate(r));
    }
  }
  return { templates, fallback, hosts };
}
