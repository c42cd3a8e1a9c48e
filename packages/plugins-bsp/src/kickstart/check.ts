import { execa } from "execa";
import { parseTraits } from "../hosts/traits.js";
import { diskLayout } from "./disk-layout.js";
import { kernelArgs } from "./kernel-args.js";
import { platformConf } from "./platform-conf.js";
import { type Profile, parseProfile } from "./profile.js";
import { KICKSTART_MAGIC, SECTION_ORDER, type SectionName } from "./render.js";

/**
 * `metal bsp kickstart --check FILE`: is this (possibly hand-edited) kickstart still installable for the
 * traits and profile in its header? Structure (LAT hook blocks, in order, each closed), shell syntax of
 * every block (`bash -n`), and the values a role depends on: platform.conf, the partition order, the
 * cgts-vg volume sizes and the kernel arguments.
 */
export interface KickstartCheck {
  ok: boolean;
  traits?: string;
  sections: SectionName[];
  problems: string[];
}

interface Block {
  name: SectionName;
  line: number;
  body: string;
}

function splitBlocks(text: string, problems: string[]): Block[] {
  const blocks: Block[] = [];
  let open: { name: SectionName; line: number; lines: string[] } | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trimEnd();
    const n = i + 1;
    if (line.startsWith("%")) {
      if (line === "%end") {
        if (!open) problems.push(`line ${n}: %end without an open block`);
        else blocks.push({ name: open.name, line: open.line, body: open.lines.join("\n") });
        open = undefined;
        return;
      }
      const name = line.replace(/\s+/g, " ") as SectionName;
      if (!SECTION_ORDER.includes(name)) {
        problems.push(`line ${n}: unknown block '${line}' (LAT knows ${SECTION_ORDER.join(", ")})`);
        return;
      }
      if (open) problems.push(`line ${n}: ${name} starts before ${open.name} (line ${open.line}) has its %end`);
      open = { name, line: n, lines: [] };
      return;
    }
    open?.lines.push(raw);
  });
  if (open) problems.push(`line ${open.line}: ${open.name} is never closed with %end`);
  let last = -1;
  for (const b of blocks) {
    const idx = SECTION_ORDER.indexOf(b.name);
    if (idx < last) problems.push(`line ${b.line}: ${b.name} comes after ${SECTION_ORDER[last]}; LAT runs them in the order ${SECTION_ORDER.join(", ")}`);
    last = Math.max(last, idx);
  }
  for (const s of SECTION_ORDER) if (!blocks.some((b) => b.name === s)) problems.push(`no ${s} block`);
  return blocks;
}

function header(text: string, key: string): string | undefined {
  return new RegExp(`^# ${key}: (.*)$`, "m").exec(text)?.[1];
}

/**
 * One `bash -n` for all blocks: each body becomes a function, so the shell parses every block once, and
 * an error line maps back to its block. (One process, not one per block: this runs on busy machines.)
 */
async function checkShell(blocks: Block[], problems: string[]): Promise<void> {
  const starts: number[] = [];
  let line = 1;
  const script = blocks
    .map((b, i) => {
      starts.push(line + 2);
      line += b.body.split("\n").length + 3;
      return `__metal_block_${i}() {\n:\n${b.body}\n}`;
    })
    .join("\n");
  const r = await execa("bash", ["-n"], { input: script, reject: false, timeout: 120_000 });
  if ((r as { code?: string }).code === "ENOENT") throw new Error("bash is not installed");
  if (r.timedOut) throw new Error("bash -n timed out");
  if (r.exitCode === 0) return;
  const at = Number(/line (\d+)/.exec(r.stderr)?.[1] ?? 0);
  let idx = 0;
  for (let i = 0; i < starts.length; i++) if (at >= starts[i]!) idx = i;
  const b = blocks[idx];
  const where = b ? `${b.name} (line ${b.line + Math.max(1, at - starts[idx]! + 1)})` : "kickstart";
  problems.push(`${where}: shell syntax: ${r.stderr.replace(/^bash: line \d+: /gm, "").trim()}`);
}

function checkValues(blocks: Block[], traits: string, profile: Profile, problems: string[]): void {
  const role = parseTraits(traits);
  const body = (name: SectionName) =>
    blocks
      .filter((b) => b.name === name)
      .map((b) => b.body)
      .join("\n");

  const conf = /cat > \/etc\/platform\/platform\.conf <<'?(\w+)'?\n([\s\S]*?)\n\1\n/.exec(body("%post"))?.[2];
  if (conf === undefined) problems.push("%post does not write /etc/platform/platform.conf");
  else {
    const got = Object.fromEntries(conf.split("\n").map((l) => l.split("=", 2) as [string, string]));
    for (const [k, v] of Object.entries(platformConf(role, profile.httpPort))) {
      if (got[k] !== v) problems.push(`platform.conf ${k}=${got[k] ?? "(missing)"}; traits ${traits} need ${k}=${v}`);
    }
  }

  const layout = diskLayout(role, profile);
  const parts = [...body("%part").matchAll(/--change-name=\d+:(\S+)/g)].map((m) => m[1]);
  const wantParts = layout.partitions.map((p) => p.name);
  if (parts.join(",") !== wantParts.join(","))
    problems.push(`partitions ${parts.join(",") || "(none)"}; traits ${traits} on this profile need ${wantParts.join(",")}`);

  const mkfs = body("%mkfs");
  for (const [lv, size] of Object.entries(layout.volumes)) {
    const m = new RegExp(`lvcreate .*-n ${lv}-lv -L (\\d+)M`).exec(mkfs);
    if (!m) problems.push(`%mkfs does not create ${lv}-lv`);
    else if (Number(m[1]) !== size) problems.push(`${lv}-lv is ${m[1]} MiB; a ${role.nodetype} on a ${profile.diskGiB} GiB disk needs ${size} MiB`);
  }

  const params = /kernel_params="([^"]*)"/.exec(body("%post"))?.[1];
  if (params === undefined) problems.push("%post does not set kernel_params in boot.env");
  else {
    const got = params.split(/\s+/);
    const keyOf = (a: string) => a.split("=")[0];
    for (const want of kernelArgs(role, profile)) {
      if (got.includes(want)) continue;
      const other = got.find((g) => keyOf(g) === keyOf(want));
      problems.push(other ? `kernel argument ${other} should be ${want} for traits ${traits}` : `kernel argument ${want} is missing for traits ${traits}`);
    }
  }
}

export async function checkKickstart(text: string): Promise<KickstartCheck> {
  const problems: string[] = [];
  if (!text.startsWith(KICKSTART_MAGIC)) problems.push(`not a metal kickstart: the first line is not '${KICKSTART_MAGIC}'`);
  const blocks = splitBlocks(text, problems);
  await checkShell(blocks, problems);
  const traits = header(text, "metal-traits");
  const profileText = header(text, "metal-profile");
  if (!traits || !profileText) problems.push("the header lacks '# metal-traits:' or '# metal-profile:'; cannot check role values");
  else {
    try {
      checkValues(blocks, traits, parseProfile(JSON.parse(profileText), "metal-profile header"), problems);
    } catch (err) {
      // Bad traits, a bad profile or a disk too small for the role: all are faults of the header.
      problems.push(`header: ${(err as Error).message}`);
    }
  }
  return { ok: problems.length === 0, ...(traits ? { traits } : {}), sections: blocks.map((b) => b.name), problems };
}
