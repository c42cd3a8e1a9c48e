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

for (const traits of TRAIT_SETS) {
  test(`golden kickstart for traits=${traits}, and it passes its own --check (bash -n on every block)`, async (t) => {
    const text = renderKickstart(parseTraits(traits), profile());
    assertGolden(t, `kickstart-${traits.replaceAll(",", "_")}.cfg`, text);
    const r = await checkKickstart(text);
    t.deepEqual(r.problems, []);
    t.true(r.ok);
    t.deepEqual(r.sections, ["%ks-early", "%pre-part", "%part", "%mkfs", "%post", "%post --nochroot"]);
  });
}

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
  t.true(args("storage", { debianRelease: 13, hwSettle: 30 }).includes("SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1"));
  t.true(args("storage", { hwSettle: 30 }).includes("hwsettle=30"));
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

test("--check finds each kind of damage in an edited kickstart", async (t) => {
  const good = renderKickstart(parseTraits("worker"), profile());
  const cases: Array<[string, string, RegExp]> = [
    ["missing %end", good.replace(/%end\n\n%mkfs/, "\n%mkfs"), /starts before %part .* has its %end/],
    ["blocks out of order", good.replace("\n%pre-part\n", "\n%post\n"), /%part comes after %post/],
    ["shell syntax error", good.replace("for lv in root var log scratch; do", "for lv in root var log scratch; dox"), /%mkfs \(line \d+\): shell syntax/],
    ["wrong LV size", good.replace("-n log-lv -L 4096M", "-n log-lv -L 1024M"), /log-lv is 1024 MiB; a worker on a 500 GiB disk needs 4096 MiB/],
    ["wrong platform.conf", good.replace("nodetype=worker", "nodetype=storage"), /platform\.conf nodetype=storage; traits worker need nodetype=worker/],
    ["missing kernel argument", good.replace(" hugepagesz=2M", ""), /kernel argument hugepagesz=2M is missing/],
    ["changed kernel argument", good.replace("nmi_watchdog=panic,1", "nmi_watchdog=0"), /kernel argument nmi_watchdog=0 should be nmi_watchdog=panic,1/],
    ["unknown block", good.replace("%post --nochroot", "%packages"), /unknown block '%packages'/],
    ["bad traits header", good.replace("# metal-traits: worker", "# metal-traits: storage,worker"), /header: storage cannot be combined with worker/],
    ["no header", good.replace(/^# metal-kickstart: 1\n/, ""), /not a metal kickstart/],
  ];
  for (const [what, text, expected] of cases) {
    const r = await checkKickstart(text);
    t.false(r.ok, what);
    t.true(
      r.problems.some((p) => expected.test(p)),
      `${what}: ${r.problems.join(" | ")}`,
    );
  }
});

test("the kickstart CLI: write, check ok, check a damaged copy, refuse bad traits", async (t) => {
  const { spawnSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const main = fileURLToPath(import.meta.resolve("@metal/core/cli/main"));
  const metal = (...a: string[]) => spawnSync(process.execPath, [main, ...a], { encoding: "utf8", timeout: 60_000 });
  const dir = tempDir();
  writeFileSync(join(dir, "profile.yaml"), "diskGiB: 100\nbootMode: bios\ncpus: 8\n");
  const ks = join(dir, "ks.cfg");
  const w = metal("bsp", "kickstart", "--traits", "worker,lowlatency", "--profile", join(dir, "profile.yaml"), "--out", ks);
  t.is(w.status, 0, w.stderr);
  t.regex(readFileSync(ks, "utf8"), /lvcreate -y -n root-lv -L 10240M cgts-vg/);
  const ok = metal("bsp", "kickstart", "--check", ks);
  t.is(ok.status, 0, ok.stderr);
  t.regex(ok.stdout, /ok \(traits worker,lowlatency\)/);
  writeFileSync(ks, readFileSync(ks, "utf8").replace("nohz_full", "nohz_fullx"));
  const bad = metal("bsp", "kickstart", "--check", ks);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /kernel argument nohz_full=1-7 is missing/);
  const traits = metal("bsp", "kickstart", "--traits", "storage,worker", "--out", ks);
  t.is(traits.status, 2);
  t.is(traits.stderr.trim(), "metal: storage cannot be combined with worker");
});

test("the generated %ks-early really runs: agreeing traits pass in any order, others stop the install", async (t) => {
  const { execa } = await import("execa");
  const { chmodSync, mkdirSync } = await import("node:fs");
  const dir = tempDir();
  const stubs = join(dir, "bin");
  mkdirSync(stubs);
  // Installer tools the block checks for; udevadm does nothing here.
  for (const tool of ["udevadm", "bc", "blkid", "dd", "lvcreate", "mkfs.ext4", "partprobe", "pvremove", "pvs", "sgdisk", "vgcreate", "wipefs"]) {
    writeFileSync(join(stubs, tool), "#!/bin/sh\nexit 0\n");
    chmodSync(join(stubs, tool), 0o755);
  }
  const text = renderKickstart(parseTraits("controller,worker"), profile());
  const body = /%ks-early\n([\s\S]*?)\n%end/.exec(text)?.[1] ?? "";
  const cmdline = join(dir, "cmdline");
  const run = (line: string) => {
    writeFileSync(cmdline, `${line}\n`);
    return execa("bash", ["-c", body.replaceAll("/proc/cmdline", cmdline)], { reject: false, env: { PATH: `${stubs}:${process.env.PATH}` } });
  };
  const ok = await run("BOOT_IMAGE=rel-24.09/bzImage-std rdinit=/install traits=worker,controller instdev=/dev/sda");
  t.is(ok.exitCode, 0, ok.stderr);
  t.regex(ok.stdout, /All-in-one install/);
  const wrong = await run("rdinit=/install traits=worker instdev=/dev/sda");
  t.is(wrong.exitCode, 1);
  t.regex(wrong.stderr, /kickstart is for traits=controller,worker but the node booted with traits=worker/);
});
