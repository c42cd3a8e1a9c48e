import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import fc from "fast-check";
import { loadHostList } from "../src/hosts/host-list.js";
import { appendOptions, substitute } from "../src/pxeboot/append-options.js";
import { biosDefault, biosDefaultStatic, grubDefault, grubDefaultStatic } from "../src/pxeboot/fallback.js";
import { generatePxeboot, pruneStaleHosts, removeHostFiles } from "../src/pxeboot/generate.js";
import { biosTemplate, TEMPLATE_NAMES, TEMPLATES, templateFor, uefiTemplate } from "../src/pxeboot/templates.js";
import { AIO_DX_HOSTS, assertGolden, runTool, STANDARD_HOSTS, tempDir, writeFixture } from "./helpers.js";

for (const name of TEMPLATE_NAMES) {
  test(`golden: ${name} templates (BIOS and UEFI) for release 24.09`, (t) => {
    assertGolden(t, `pxe-${name}-install-24.09`, biosTemplate(name, "24.09"));
    assertGolden(t, `efi-pxe-${name}-install-24.09`, uefiTemplate(name, "24.09"));
  });
}

test("golden: fallback menus default, default.static, grub.cfg, grub.cfg.static", (t) => {
  assertGolden(t, "default", biosDefault());
  assertGolden(t, "default.static", biosDefaultStatic());
  assertGolden(t, "grub.cfg", grubDefault());
  assertGolden(t, "grub.cfg.static", grubDefaultStatic());
});

test("fallback menus loop: BIOS re-chains pxelinux.0; UEFI falls back to the entry that reloads grub.cfg", (t) => {
  for (const menu of [biosDefault(), biosDefaultStatic()]) {
    t.regex(menu, /TIMEOUT 100/);
    t.regex(menu, /MENU DEFAULT\n {2}KERNEL pxelinux\.0\n$/);
  }
  t.regex(biosDefault(), /Waiting for this node to be configured\./);
  t.regex(biosDefaultStatic(), /system host-add/);
  for (const [menu, fallback] of [
    [grubDefault(), 5],
    [grubDefaultStatic(), 8],
  ] as const) {
    t.regex(menu, new RegExp(`^timeout=10\nfallback=${fallback}\n`));
    t.regex(menu, /export skip_check_cfg/);
    const entries = [...menu.matchAll(/^menuentry '([^']*)'/gm)].map((m) => m[1]);
    t.is(entries.length, fallback + 1, "the fallback index is the last entry");
    t.regex(menu.split("menuentry").at(-1) ?? "", /configfile pxelinux\.cfg\/grub\.cfg/);
    t.regex(menu, /configfile "pxelinux\.cfg\/efi-01-\$\{conf\}\.cfg"/);
  }
});

test("template choice: AIO controller -> smallsystem[_lowlatency], worker[_lowlatency], storage, controller", (t) => {
  t.is(templateFor({ nodetype: "controller", aio: true, lowlatency: false }), "smallsystem");
  t.is(templateFor({ nodetype: "controller", aio: true, lowlatency: true }), "smallsystem_lowlatency");
  t.is(templateFor({ nodetype: "controller", aio: false, lowlatency: false }), "controller");
  t.is(templateFor({ nodetype: "worker", aio: false, lowlatency: true }), "worker_lowlatency");
  t.is(templateFor({ nodetype: "worker", aio: false, lowlatency: false }), "worker");
  t.is(templateFor({ nodetype: "storage", aio: false, lowlatency: false }), "storage");
  // Only kernel, traits and defaultkernel differ between templates.
  const strip = (s: string, n: (typeof TEMPLATE_NAMES)[number]) =>
    s
      .replaceAll(TEMPLATES[n].label, "L")
      .replaceAll(`bzImage-${TEMPLATES[n].kernel}`, "K")
      .replaceAll(TEMPLATES[n].traits, "T")
      .replaceAll(TEMPLATES[n].defaultKernel, "D");
  for (const n of TEMPLATE_NAMES) {
    t.is(strip(biosTemplate(n, "24.09"), n), strip(biosTemplate("controller", "24.09"), "controller"), n);
    // The real-time UEFI entries differ in one more word: efi=runtime (checked below).
    t.is(strip(uefiTemplate(n, "24.09"), n).replace(" efi=runtime", ""), strip(uefiTemplate("controller", "24.09"), "controller"), n);
  }
});

test("UEFI lowlatency entries pass efi=runtime (the RT kernel needs it to write the EFI boot order); BIOS and std entries do not", (t) => {
  for (const n of TEMPLATE_NAMES) {
    const rt = TEMPLATES[n].kernel === "rt";
    const linux = /^\s*linux .*$/m.exec(uefiTemplate(n, "24.09"))?.[0] ?? "";
    t.is(linux.includes(" biosplusefi=1 efi=runtime "), rt, `${n} UEFI`);
    t.false(biosTemplate(n, "24.09").includes("efi=runtime"), `${n} BIOS`);
  }
  t.deepEqual(
    TEMPLATE_NAMES.filter((n) => uefiTemplate(n, "24.09").includes("efi=runtime")),
    ["smallsystem_lowlatency", "worker_lowlatency"],
  );
});

test("APPEND_OPTIONS: instdev, insthwsettle, console, user_namespace.enable=1, extra args, in that order", (t) => {
  t.is(
    appendOptions({ installDevice: "/dev/sdb", hwSettle: 5, console: "ttyS1,115200n8", kernelArgs: ["nopti"] }),
    "instdev=/dev/sdb insthwsettle=5 console=ttyS1,115200n8 user_namespace.enable=1 nopti",
  );
  t.is(appendOptions({ installDevice: "/dev/sda", hwSettle: 0, console: null, kernelArgs: [] }), "instdev=/dev/sda user_namespace.enable=1");
});

test("substitution: the first APPEND_OPTIONS per line, BASE_URL everywhere, `$` in values stays literal", (t) => {
  const tpl = "a xxxAPPEND_OPTIONSxxx b xxxAPPEND_OPTIONSxxx\nxxxBASE_URLxxx/x xxxBASE_URLxxx/y xxxAPPEND_OPTIONSxxx\n";
  t.is(substitute(tpl, { appendOptions: "O$1", baseUrl: "http://h:1$&" }), "a O$1 b xxxAPPEND_OPTIONSxxx\nhttp://h:1$&/x http://h:1$&/y O$1\n");
  fc.assert(
    fc.property(fc.string(), fc.string(), (opts, url) => {
      const out = substitute(biosTemplate("worker", "24.09"), { appendOptions: opts, baseUrl: url });
      return !out.includes("xxxBASE_URLxxx") && (opts.includes("xxxAPPEND_OPTIONSxxx") || !out.includes("xxxAPPEND_OPTIONSxxx"));
    }),
  );
});

test("pxeboot tree: per-MAC BIOS and UEFI files with the .cfg link; golden per-host files", async (t) => {
  const dir = tempDir();
  const list = await loadHostList(writeFixture(dir, "hosts.yaml", AIO_DX_HOSTS));
  const out = join(dir, "tree");
  const progress: number[] = [];
  const result = await generatePxeboot(list, out, { onProgress: (d) => progress.push(d), batch: 3 });
  t.deepEqual(progress, [3, 4]);
  t.deepEqual(
    result.hosts.map((h) => h.template),
    ["smallsystem", "smallsystem_lowlatency", "worker", "worker_lowlatency"],
  );
  const live = join(out, "pxelinux.cfg");
  t.true(lstatSync(join(live, "efi-01-52-54-00-aa-bb-02.cfg")).isSymbolicLink());
  t.is(readlinkSync(join(live, "efi-01-52-54-00-aa-bb-02.cfg")), "efi-01-52-54-00-aa-bb-02");
  assertGolden(t, "host-01-52-54-00-aa-bb-02", readFileSync(join(live, "01-52-54-00-aa-bb-02"), "utf8"));
  assertGolden(t, "host-efi-01-52-54-00-aa-bb-02", readFileSync(join(live, "efi-01-52-54-00-aa-bb-02"), "utf8"));
  assertGolden(t, "host-efi-01-52-54-00-aa-bb-03", readFileSync(join(live, "efi-01-52-54-00-aa-bb-03"), "utf8"));
  for (const f of readdirSync(live)) t.false(readFileSync(join(live, f), "utf8").includes("xxx"), `${f} has an unreplaced token`);
  t.is(readFileSync(join(live, "default"), "utf8"), biosDefault(), "dynamic addressing: default is live");
  t.true(existsSync(join(out, "pxelinux.cfg.files", "efi-pxe-worker_lowlatency-install-24.09")));
});

test("static management addressing makes default.static and grub.cfg.static the live menus", async (t) => {
  const dir = tempDir();
  const list = await loadHostList(writeFixture(dir, "hosts.yaml", STANDARD_HOSTS));
  await generatePxeboot(list, join(dir, "tree"));
  t.is(readFileSync(join(dir, "tree/pxelinux.cfg/default"), "utf8"), biosDefaultStatic());
  t.is(readFileSync(join(dir, "tree/pxelinux.cfg/grub.cfg"), "utf8"), grubDefaultStatic());
  t.regex(readFileSync(join(dir, "tree/pxelinux.cfg/01-52-54-00-00-00-03"), "utf8"), /traits=storage /);
});

test("regenerating replaces a host's files (personality change) and removal deletes all three", async (t) => {
  const dir = tempDir();
  const out = join(dir, "tree");
  await generatePxeboot(await loadHostList(writeFixture(dir, "a.yaml", STANDARD_HOSTS)), out);
  const changed = STANDARD_HOSTS.replace('worker-0, mac: "52:54:00:00:00:04", personality: worker', 'worker-0, mac: "52:54:00:00:00:04", personality: storage');
  await generatePxeboot(await loadHostList(writeFixture(dir, "b.yaml", changed)), out);
  t.regex(readFileSync(join(out, "pxelinux.cfg/efi-01-52-54-00-00-00-04.cfg"), "utf8"), /traits=storage /);
  const removed = removeHostFiles(out, "52:54:00:00:00:04");
  t.deepEqual(removed, ["pxelinux.cfg/01-52-54-00-00-00-04", "pxelinux.cfg/efi-01-52-54-00-00-00-04", "pxelinux.cfg/efi-01-52-54-00-00-00-04.cfg"]);
  for (const r of removed) t.false(existsSync(join(out, r)), r);
  t.true(existsSync(join(out, "pxelinux.cfg/01-52-54-00-00-00-03")), "other hosts untouched");
  t.notThrows(() => removeHostFiles(out, "52:54:00:00:00:04"), "removing twice is fine");
});

test("grub-script-check accepts every generated GRUB file and rejects a broken one", async (t) => {
  const dir = tempDir();
  const out = join(dir, "tree");
  await generatePxeboot(await loadHostList(writeFixture(dir, "hosts.yaml", AIO_DX_HOSTS)), out);
  await generatePxeboot(await loadHostList(writeFixture(dir, "std.yaml", STANDARD_HOSTS)), out);
  const grubFiles = [
    ...readdirSync(join(out, "pxelinux.cfg"))
      .filter((f) => f.startsWith("efi-01-") || f === "grub.cfg")
      .map((f) => join(out, "pxelinux.cfg", f)),
    ...readdirSync(join(out, "pxelinux.cfg.files"))
      .filter((f) => f.startsWith("efi-") || f.startsWith("grub.cfg"))
      .map((f) => join(out, "pxelinux.cfg.files", f)),
  ];
  t.is(grubFiles.length, 8 * 2 + 1 + 6 + 2, "per-host files and links, live grub.cfg, templates, fallbacks");
  for (const f of grubFiles) {
    const r = await runTool(t, "grub-script-check", [f], "grub-common");
    t.is(r.exitCode, 0, `${f}: ${r.all}`);
  }
  // The check can fail: a file cut in the middle of its menuentry is refused.
  const broken = join(dir, "broken.cfg");
  writeFileSync(broken, readFileSync(join(out, "pxelinux.cfg/efi-01-52-54-00-aa-bb-01"), "utf8").replace(/\}\n$/, ""));
  t.not((await runTool(t, "grub-script-check", [broken], "grub-common")).exitCode, 0);
});

test("pruning deletes the files of hosts gone from the list and nothing else", async (t) => {
  const dir = tempDir();
  const out = join(dir, "tree");
  await generatePxeboot(await loadHostList(writeFixture(dir, "a.yaml", STANDARD_HOSTS)), out);
  const smaller = await loadHostList(writeFixture(dir, "b.yaml", STANDARD_HOSTS.replace(/^.*storage-0.*\n/m, "")));
  t.is(smaller.hosts.length, 3);
  writeFileSync(join(out, "pxelinux.cfg/notes.txt"), "operator file");
  t.deepEqual(pruneStaleHosts(out, smaller), [
    "pxelinux.cfg/01-52-54-00-00-00-03",
    "pxelinux.cfg/efi-01-52-54-00-00-00-03",
    "pxelinux.cfg/efi-01-52-54-00-00-00-03.cfg",
  ]);
  t.true(existsSync(join(out, "pxelinux.cfg/notes.txt")));
  t.true(existsSync(join(out, "pxelinux.cfg/default")));
  t.true(existsSync(join(out, "pxelinux.cfg/efi-01-52-54-00-00-00-04.cfg")));
  t.deepEqual(pruneStaleHosts(out, smaller), []);
});
