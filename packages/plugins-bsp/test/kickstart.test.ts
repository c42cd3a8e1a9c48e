import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { parseTraits } from "../src/hosts/traits.js";
import { checkKickstart } from "../src/kickstart/check.js";
import { backupSize, DiskLayoutError, diskLayout, volumeSizes } from "../src/kickstart/disk-layout.js";
import { aioReservedMiB, KernelArgsError, kernelArgs } from "../src/kickstart/kernel-args.js";
import { platformConf, presetName } from "../src/kickstart/platform-conf.js";
import { ProfileError, parseProfile } from "../src/kickstart/profile.js";
import { renderKickstart } from "../src/kickstart/render.js";
import { assertGolden, tempDir } from "./helpers.js";

const TRAIT_SETS = ["controller", "controller,worker", "controller,worker,lowlatency", "storage", "worker", "worker,lowlatency"];
const profile = (over: Record<string, unknown> = {}) => parseProfile(over);

const KS = renderKickstart({ swVersion: "24.09" });

test("golden: one unified kickstart for the feed; it passes its own --check (bash -n, traits line, contents run for every role)", async (t) => {
  assertGolden(t, "kickstart.cfg", KS);
  const r = await checkKickstart(KS);
  t.deepEqual(r.problems, []);
  t.true(r.ok);
  t.is(r.traits, TRAIT_SETS.join(" "));
  t.deepEqual(r.sections, ["%ks-early", "%pre-part", "%part", "%mkfs", "%post", "%post", "%post --nochroot", "%post --nochroot"]);
});

test("every block declares its interpreter as the original's do, and --check reads those headers", (t) => {
  const headers = KS.split("\n").filter((l) => l.startsWith("%") && l !== "%end");
  t.deepEqual(headers, [
    "%ks-early --interpreter=/bin/bash",
    "%pre-part --interpreter=/bin/bash",
    "%part --interpreter=/bin/bash",
    "%mkfs --interpreter=/bin/bash",
    "%post --interpreter=/bin/bash",
    "%post --interpreter=/bin/bash",
    "%post --interpreter=/bin/bash --nochroot",
    "%post --interpreter=/bin/bash --nochroot",
  ]);
});

test("volume sizes per role and disk size, at the table's boundaries", (t) => {
  const role = (s: string) => parseTraits(s);
  t.deepEqual(volumeSizes(role("worker"), 120), { root: 10240, var: 10240, log: 4096, scratch: 4096 });
  t.deepEqual(volumeSizes(role("worker"), 121), { root: 20480, var: 20480, log: 4096, scratch: 4096 });
  t.deepEqual(volumeSizes(role("storage"), 120), { root: 10240, var: 10240, log: 4000, scratch: 4000 });
  t.deepEqual(volumeSizes(role("storage"), 121), { root: 20480, var: 20480, log: 8000, scratch: 8000 });
  t.deepEqual(volumeSizes(role("controller"), 100), { root: 20480, var: 20480, log: 8000, scratch: 16000 });
  t.deepEqual(volumeSizes(role("controller,worker"), 205), { root: 20480, var: 20480, log: 3000, scratch: 2000 });
  t.deepEqual(volumeSizes(role("controller,worker"), 206), { root: 20480, var: 20480, log: 8000, scratch: 16000 });
  t.is(backupSize(role("controller,worker"), 205), 1000);
  t.is(backupSize(role("controller"), 205), 30000);
  t.is(backupSize(role("controller"), 500, 10), 30000, "persistent_size never goes below the default");
  t.is(backupSize(role("controller"), 500, 40000), 40000);
});

test("partition layout: bios only on BIOS boot or non-controllers; backup only on controllers; disk too small fails", (t) => {
  const names = (traits: string, over: Record<string, unknown> = {}) => diskLayout(parseTraits(traits), profile(over)).partitions.map((p) => p.name);
  t.deepEqual(names("controller"), ["platform_backup", "otaefi", "otaboot", "platform_pv"]);
  t.deepEqual(names("controller", { bootMode: "bios" }), ["bios", "platform_backup", "otaefi", "otaboot", "platform_pv"]);
  t.deepEqual(names("worker"), ["bios", "otaefi", "otaboot", "platform_pv"]);
  t.throws(() => diskLayout(parseTraits("controller"), profile({ diskGiB: 80 })), { instanceOf: DiskLayoutError, message: /80 GiB disk is too small/ });
  t.notThrows(() => diskLayout(parseTraits("worker"), profile({ diskGiB: 40 })));
});

test("kernel arguments per role: isolation and hugepages for compute, IOMMU off for controller and storage", (t) => {
  const args = (traits: string, over: Record<string, unknown> = {}) => kernelArgs(parseTraits(traits), profile(over));
  const worker = args("worker", { cpus: 8 });
  t.true(worker.includes("rcu_nocbs=1-7") && worker.includes("kthread_cpus=0") && worker.includes("irqaffinity=1-7"));
  t.true(worker.includes("hugepagesz=2M") && worker.includes("iommu=pt") && worker.includes("intel_iommu=on"));
  t.true(worker.includes("nmi_watchdog=panic,1"));
  t.false(worker.some((a) => a.startsWith("nohz_full")));
  const rt = args("worker,lowlatency", { cpus: 8, platformCpus: 2 });
  t.true(rt.includes("nohz_full=2-7") && rt.includes("nmi_watchdog=0") && rt.includes("skew_tick=1") && rt.includes("softlockup_panic=0"));
  t.true(args("controller,worker", { cpuVendor: "amd" }).includes("amd_iommu=on"));
  t.true(args("worker", { productName: "ProLiant DL360p Gen8" }).includes("intel_iommu=on,eth_no_rmrr"));
  t.true(args("worker", { cpuModel: 79 }).includes("kvm-intel.eptad=0"));
  const ctl = args("controller");
  t.true(ctl.includes("intel_iommu=off") && ctl.includes("usbcore.autosuspend=-1") && ctl.includes("loop.max_part=15"));
  t.false(args("storage").includes("loop.max_part=15"));
  t.false(ctl.some((a) => a.startsWith("hugepages")));
  for (const a of [ctl, worker]) t.true(a.includes("selinux=0") && a.includes("user_namespace.enable=1") && a.includes("biosdevname=0"));
  t.true(args("storage", { debianRelease: 13 }).includes("SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1"));
  const boot = (traits: string, words: string[]) => kernelArgs(parseTraits(traits), profile(), words);
  t.true(boot("storage", ["insthwsettle=30"]).includes("hwsettle=30"), "insthwsettle= on the boot line reaches the node");
  t.false(
    boot("storage", ["insthwsettle=x1"]).some((a) => a.startsWith("hwsettle")),
    "only digits",
  );
  t.deepEqual(boot("worker", ["nospectre_v2", "nopti", "nopti_extra"]).slice(0, 2), ["nopti", "nospectre_v2"], "security words first, exact words only");
  t.throws(() => args("controller,worker", { cpus: 3 }), { instanceOf: KernelArgsError, message: /at least 4 CPUs/ });
  t.throws(() => args("worker", { cpus: 2, platformCpus: 2 }), { instanceOf: KernelArgsError, message: /no CPU for applications/ });
});

test("platform.conf, systemd preset and the AIO memory reservation", (t) => {
  t.deepEqual(platformConf(parseTraits("controller,worker,lowlatency"), 8080), {
    nodetype: "controller",
    subfunction: "controller,worker,lowlatency",
    system_type: "All-in-one",
    http_port: "8080",
  });
  t.deepEqual(platformConf(parseTraits("storage"), 80), { nodetype: "storage", subfunction: "storage", system_type: "Standard", http_port: "80" });
  t.deepEqual(
    TRAIT_SETS.map((s) => presetName(parseTraits(s))),
    ["controller", "aio", "lowlatency", "storage", "worker", "worker-lowlatency"],
  );
  t.deepEqual([4000, 6144, 8000, 8192, 8193, 14500, 14501].map(aioReservedMiB), [6144, 6144, 8000, 8192, 8192, 8192, 14500]);
});

test("a bad profile is a clear error", (t) => {
  t.throws(() => parseProfile({ diskGiB: 5 }), { instanceOf: ProfileError, message: /diskGiB/ });
  t.throws(() => parseProfile({ bootmode: "uefi" }), { instanceOf: ProfileError, message: /bootmode/ });
});

test("--check finds each kind of damage in an edited kickstart, the traits line among them", async (t) => {
  const good = KS;
  const cases: Array<[string, string, RegExp]> = [
    ["missing %end", good.replace(/%end\n\n%mkfs/, "\n%mkfs"), /starts before %part .* has its %end/],
    ["blocks out of order", good.replace("\n%pre-part --interpreter=/bin/bash\n", "\n%post --interpreter=/bin/bash\n"), /%part comes after %post/],
    ["shell syntax error", good.replace("for lv in root var log scratch; do", "for lv in root var log scratch; dox"), /%mkfs \(line \d+\): shell syntax/],
    [
      "traits line edited to disagree with the contents",
      good.replace(/^# metal-traits: .*$/m, "# metal-traits: controller controller,worker storage worker"),
      /the traits line says 'controller controller,worker storage worker' but the install functions accept/,
    ],
    [
      "a role dropped from the functions only",
      good.replace(/^KS_VALID_TRAITS="(.*) storage (.*)"$/m, 'KS_VALID_TRAITS="$1 $2"'),
      /traits line says .* but the install functions accept/,
    ],
    [
      "a worker size edited in the functions",
      good.replace("KS_LV_VAR=$KS_LV_ROOT KS_LV_LOG=4096 KS_LV_SCRATCH=4096", "KS_LV_VAR=$KS_LV_ROOT KS_LV_LOG=1024 KS_LV_SCRATCH=4096"),
      /traits worker on a 100 GiB bios node with 4 intel CPUs: volumes is '10240 10240 1024 4096'; metal's rules give '10240 10240 4096 4096'/,
    ],
    ["a fixed LV size in %mkfs", good.replace(`-n log-lv -L "$\{KS_LV_LOG}M"`, "-n log-lv -L 4096M"), /%mkfs does not create log-lv with the planned size/],
    [
      "a kernel argument edited in the functions",
      good.replace("p+=(nmi_watchdog=panic,1 softlockup_panic=1); fi", "p+=(nmi_watchdog=0 softlockup_panic=1); fi"),
      /traits worker on .*: kernel is '.*nmi_watchdog=0 .*'; metal's rules give '.*nmi_watchdog=panic,1 .*'/,
    ],
    ["platform.conf written from a constant", good.replace("nodetype=$KS_NODETYPE", "nodetype=worker"), /%post does not write nodetype to platform\.conf/],
    [
      "a block in python",
      good.replace("%mkfs --interpreter=/bin/bash", "%mkfs --interpreter=/usr/bin/python3"),
      /--interpreter=\/usr\/bin\/python3: the blocks are shell scripts/,
    ],
    ["unknown block", good.replace("%post --interpreter=/bin/bash --nochroot", "%packages"), /unknown block '%packages'/],
    ["no header", good.replace(/^# metal-kickstart: 2\n/, ""), /not a metal kickstart/],
  ];
  for (const [what, text, expected] of cases) {
    t.not(text, good, `${what}: the edit applies`);
    const r = await checkKickstart(text);
    t.false(r.ok, what);
    t.true(
      r.problems.some((p) => expected.test(p)),
      `${what}: ${r.problems.join(" | ")}`,
    );
  }
});

test("the kickstart CLI: write the unified kickstart, check it, check a damaged copy, preview a role on given hardware", async (t) => {
  const { spawnSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const main = fileURLToPath(import.meta.resolve("@metal/core/cli/main"));
  const metal = (...a: string[]) => spawnSync(process.execPath, [main, ...a], { encoding: "utf8", timeout: 60_000 });
  const dir = tempDir();
  const ks = join(dir, "ks.cfg");
  const w = metal("bsp", "kickstart", "--out", ks);
  t.is(w.status, 0, w.stderr);
  t.is(readFileSync(ks, "utf8"), KS);
  const ok = metal("bsp", "kickstart", "--check", ks);
  t.is(ok.status, 0, ok.stderr);
  t.regex(ok.stdout, /ok \(installs controller controller,worker controller,worker,lowlatency storage worker worker,lowlatency\)/);
  writeFileSync(ks, KS.replace('"rcu_nocbs=$app"', '"rcu_nocbs=$plat"'));
  const bad = metal("bsp", "kickstart", "--check", ks);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /traits worker on a 100 GiB .*: kernel is '.*rcu_nocbs=0 .*'; metal's rules give '.*rcu_nocbs=1-3 .*'/);
  const preview = metal(
    "bsp",
    "kickstart",
    "--traits",
    "worker,lowlatency",
    "--disk-gib",
    "100",
    "--cpus",
    "8",
    "--boot-args",
    "nopti insthwsettle=5",
    "--json",
  );
  t.is(preview.status, 0, preview.stderr);
  const p = JSON.parse(preview.stdout) as { volumes: { root: number }; kernelParams: string[] };
  t.is(p.volumes.root, 10240);
  t.true(p.kernelParams.includes("nohz_full=1-7") && p.kernelParams.includes("hwsettle=5") && p.kernelParams[0] === "nopti");
  const text = metal("bsp", "kickstart", "--traits", "controller", "--disk-gib", "480");
  t.regex(text.stdout, /cgts-vg: root-lv 20480, var-lv 20480, log-lv 8000, scratch-lv 16000 MiB/);
  const traits = metal("bsp", "kickstart", "--traits", "storage,worker", "--disk-gib", "100");
  t.is(traits.status, 2);
  t.is(traits.stderr.trim(), "metal: storage cannot be combined with worker");
});
