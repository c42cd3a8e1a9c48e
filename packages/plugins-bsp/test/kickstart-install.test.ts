import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { execa } from "execa";
import { parseTraits } from "../src/hosts/traits.js";
import { previewInstall } from "../src/kickstart/preview.js";
import { parseProfile } from "../src/kickstart/profile.js";
import { renderKickstart } from "../src/kickstart/render.js";
import { blocksOf, calls, INSTALL_UUID, runBlock, type Sandbox, sandbox } from "./install-sandbox.js";

/**
 * The unified kickstart run for real, block by block, on fake nodes of two kinds, for every role: what it
 * writes must match a table taken from the original's rules (reference B.6-B.9), and what `metal bsp
 * kickstart --traits` previews.
 */
const KS = renderKickstart({ swVersion: "24.09" });
const FEED = "insturl=http://pxecontroller:8080/feed/rel-24.09/ostree_repo ks=http://pxecontroller:8080/feed/rel-24.09/kickstart/kickstart.cfg";

/** A small BIOS Broadwell ProLiant booted with security and hwsettle words, and a large UEFI AMD node. */
const NODES = {
  small: {
    hw: parseProfile({ diskGiB: 110, bootMode: "bios", cpus: 4, cpuVendor: "intel", cpuModel: 79, productName: "ProLiant DL380p Gen8", node0MemoryMiB: 7000 }),
    boot: "instdev=/dev/sda nopti nospectre_v2 insthwsettle=5 persistent_size=35000",
  },
  large: {
    hw: parseProfile({ diskGiB: 480, bootMode: "uefi", cpus: 16, cpuVendor: "amd", node0MemoryMiB: 65536 }),
    boot: "instdev=/dev/nvme0n1",
  },
} as const;

const COMMON = "selinux=0 enforcing=0 softdog.soft_panic=1 systemd.unified_cgroup_hierarchy=0 user_namespace.enable=1 biosdevname=0";
/** The original's rules written out per case: volume sizes (B.7 step 5), partitions (step 4), kernel_params (step 8). */
const TABLE: Array<{ traits: string; node: keyof typeof NODES; volumes: number[]; partitions: string[]; kernel: string; preset: string }> = [
  {
    traits: "controller",
    node: "small",
    volumes: [20480, 20480, 8000, 16000],
    partitions: ["bios:1", "platform_backup:35000", "otaefi:300", "otaboot:2048", "platform_pv"],
    kernel: `nopti nospectre_v2 intel_iommu=off usbcore.autosuspend=-1 loop.max_part=15 nmi_watchdog=panic,1 softlockup_panic=1 ${COMMON} hwsettle=5`,
    preset: "controller",
  },
  {
    traits: "controller",
    node: "large",
    volumes: [20480, 20480, 8000, 16000],
    partitions: ["platform_backup:30000", "otaefi:300", "otaboot:2048", "platform_pv"],
    kernel: `amd_iommu=off usbcore.autosuspend=-1 loop.max_part=15 nmi_watchdog=panic,1 softlockup_panic=1 ${COMMON}`,
    preset: "controller",
  },
  {
    traits: "controller,worker",
    node: "small",
    volumes: [20480, 20480, 3000, 2000],
    partitions: ["bios:1", "platform_backup:35000", "otaefi:300", "otaboot:2048", "platform_pv"],
    kernel: `nopti nospectre_v2 iommu=pt hugepagesz=2M hugepages=0 default_hugepagesz=2M rcu_nocbs=2-3 kthread_cpus=0-1 irqaffinity=2-3 nmi_watchdog=panic,1 softlockup_panic=1 intel_iommu=on,eth_no_rmrr kvm-intel.eptad=0 ${COMMON} hwsettle=5`,
    preset: "aio",
  },
  {
    traits: "controller,worker,lowlatency",
    node: "large",
    volumes: [20480, 20480, 8000, 16000],
    partitions: ["platform_backup:30000", "otaefi:300", "otaboot:2048", "platform_pv"],
    kernel: `iommu=pt hugepagesz=2M hugepages=0 default_hugepagesz=2M rcu_nocbs=2-15 kthread_cpus=0-1 irqaffinity=2-15 nohz_full=2-15 nmi_watchdog=0 softlockup_panic=0 skew_tick=1 amd_iommu=on ${COMMON}`,
    preset: "lowlatency",
  },
  {
    traits: "worker",
    node: "small",
    volumes: [10240, 10240, 4096, 4096],
    partitions: ["bios:1", "otaefi:300", "otaboot:2048", "platform_pv"],
    kernel: `nopti nospectre_v2 iommu=pt hugepagesz=2M hugepages=0 default_hugepagesz=2M rcu_nocbs=1-3 kthread_cpus=0 irqaffinity=1-3 nmi_watchdog=panic,1 softlockup_panic=1 intel_iommu=on,eth_no_rmrr kvm-intel.eptad=0 ${COMMON} hwsettle=5`,
    preset: "worker",
  },
  {
    traits: "worker",
    node: "large",
    volumes: [20480, 20480, 4096, 4096],
    partitions: ["bios:1", "otaefi:300", "otaboot:2048", "platform_pv"],
    kernel: `iommu=pt hugepagesz=2M hugepages=0 default_hugepagesz=2M rcu_nocbs=1-15 kthread_cpus=0 irqaffinity=1-15 nmi_watchdog=panic,1 softlockup_panic=1 amd_iommu=on ${COMMON}`,
    preset: "worker",
  },
  {
    traits: "worker,lowlatency",
    node: "large",
    volumes: [20480, 20480, 4096, 4096],
    partitions: ["bios:1", "otaefi:300", "otaboot:2048", "platform_pv"],
    kernel: `iommu=pt hugepagesz=2M hugepages=0 default_hugepagesz=2M rcu_nocbs=1-15 kthread_cpus=0 irqaffinity=1-15 nohz_full=1-15 nmi_watchdog=0 softlockup_panic=0 skew_tick=1 amd_iommu=on ${COMMON}`,
    preset: "worker-lowlatency",
  },
  {
    traits: "storage",
    node: "small",
    volumes: [10240, 10240, 4000, 4000],
    partitions: ["bios:1", "otaefi:300", "otaboot:2048", "platform_pv"],
    kernel: `nopti nospectre_v2 intel_iommu=off usbcore.autosuspend=-1 nmi_watchdog=panic,1 softlockup_panic=1 ${COMMON} hwsettle=5`,
    preset: "storage",
  },
  {
    traits: "storage",
    node: "large",
    volumes: [20480, 20480, 8000, 8000],
    partitions: ["bios:1", "otaefi:300", "otaboot:2048", "platform_pv"],
    kernel: `amd_iommu=off usbcore.autosuspend=-1 nmi_watchdog=panic,1 softlockup_panic=1 ${COMMON}`,
    preset: "storage",
  },
];

/** The partitions sgdisk finds on the disk image: `name:MiB`, the last (rest of the disk) without size. */
async function partitionTable(disk: string): Promise<string[]> {
  const r = await execa("sgdisk", ["-p", disk], { reject: false });
  const rows = r.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => /^\d+$/.test(f[0] ?? "") && f.length >= 7);
  return rows.map((f, i) => {
    const sectors = Number(f[2]) - Number(f[1]) + 1;
    return i === rows.length - 1 ? f[6]! : `${f[6]}:${Math.round((sectors * 512) / 2 ** 20)}`;
  });
}

async function install(t: ExecutionContext, s: Sandbox, sections: ReadonlyArray<Parameters<typeof blocksOf>[1]>): Promise<void> {
  for (const section of sections) {
    for (const body of blocksOf(KS, section)) {
      const r = await runBlock(s, body);
      t.is(r.exitCode, 0, `${section}: ${r.all}`);
    }
  }
}
const EVERY_BLOCK = ["%ks-early", "%pre-part", "%part", "%mkfs", "%post", "%post --nochroot"] as const;

for (const row of TABLE) {
  test(`install ${row.traits} on the ${row.node} node: sizes, partitions, kernel_params, platform.conf as the original's rules give`, async (t) => {
    const node = NODES[row.node];
    const s = sandbox(node.hw, `BOOT_IMAGE=rel-24.09/bzImage rdinit=/install traits=${row.traits} ${FEED} ${node.boot}`);
    await install(t, s, EVERY_BLOCK);
    const lv = (name: string) => Number(/-L (\d+)M/.exec(calls(s, "lvcreate").find((c) => c.includes(`-n ${name}-lv `)) ?? "")?.[1]);
    t.deepEqual(["root", "var", "log", "scratch"].map(lv), row.volumes, "cgts-vg volumes");
    t.deepEqual(await partitionTable(s.node.disk), row.partitions, "GPT on the install disk (real sgdisk)");
    const env = await execa("grub-editenv", [join(s.root, "boot/efi/EFI/BOOT/boot.env"), "list"]);
    t.is(env.stdout.trim(), `kernel_params=${row.kernel}`);
    const role = parseTraits(row.traits);
    const preview = previewInstall(role, node.hw, node.boot.split(" "));
    t.is(preview.kernelParams.join(" "), row.kernel, "the preview says the same");
    t.deepEqual([preview.volumes.root, preview.volumes.var, preview.volumes.log, preview.volumes.scratch], row.volumes);
    const conf = readFileSync(join(s.root, "etc/platform/platform.conf"), "utf8");
    t.is(
      conf,
      `nodetype=${role.nodetype}\nsubfunction=${row.traits}\nsystem_type=${role.aio ? "All-in-one" : "Standard"}\nhttp_port=8080\nmanagement_interface=lo\nINSTALL_UUID=${INSTALL_UUID}\n`,
    );
    t.is(calls(s, "wget").filter((c) => c.includes("install_uuid")).length, 1, "a system node fetches the install uuid");
    const { readlinkSync } = await import("node:fs");
    t.is(readlinkSync(join(s.root, `etc/systemd/system-preset/10-${row.preset}.preset`)), `/etc/systemd/${row.preset}.preset`);
    if (role.aio) {
      const reserved = row.node === "small" ? 7000 : 14500;
      t.is(
        readFileSync(join(s.root, "etc/platform/worker_reserved.conf"), "utf8"),
        `WORKER_BASE_RESERVED=("node0:${reserved}MB:1")\nWORKER_CPU_LIST="0-${node.hw.cpus - 1}"\n`,
      );
    }
  });
}

test("a traits= the kickstart does not install stops the install in %ks-early with the reason", async (t) => {
  for (const [traits, reason] of [
    ["storage,worker", /storage cannot be combined with other traits/],
    ["controller,lowlatency", /lowlatency needs worker/],
    ["", /no traits= on the boot line/],
  ] as const) {
    const s = sandbox(NODES.large.hw, `traits=${traits} ${FEED}`);
    const r = await runBlock(s, blocksOf(KS, "%ks-early")[0]!);
    t.is(r.exitCode, 1, traits);
    t.regex(r.all ?? "", reason);
  }
});

test("a disk too small for the role fails %part before sgdisk touches it", async (t) => {
  const s = sandbox(parseProfile({ diskGiB: 80, bootMode: "uefi" }), `traits=controller ${FEED}`);
  await install(t, s, ["%ks-early", "%pre-part"]);
  const r = await runBlock(s, blocksOf(KS, "%part")[0]!);
  t.is(r.exitCode, 1);
  t.regex(r.all ?? "", /a 80 GiB disk is too small: partitions need 32348 MiB and cgts-vg volumes 64960 MiB/);
  t.deepEqual(await partitionTable(s.node.disk), [], "the disk is untouched");
});

test("reinstalling a controller keeps its platform_backup partition where it is", async (t) => {
  const s = sandbox(NODES.small.hw, `traits=controller ${FEED} ${NODES.small.boot}`);
  await install(t, s, ["%ks-early", "%pre-part", "%part"]);
  const start = async () => (await execa("sgdisk", ["-i", "2", s.node.disk])).stdout.match(/First sector: (\d+)/)?.[1];
  const before = await start();
  writeFileSync(s.calls, "");
  await install(t, s, ["%part"]);
  t.is(await start(), before);
  t.deepEqual(await partitionTable(s.node.disk), TABLE[0]!.partitions);
});

test("Debian 13 in the installed image adds SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1", async (t) => {
  const s = sandbox(NODES.large.hw, `traits=storage ${FEED}`);
  writeFileSync(join(s.root, "etc/debian_version"), "13.1\n");
  await install(t, s, ["%ks-early", "%post"]);
  const env = await execa("grub-editenv", [join(s.root, "boot/efi/EFI/BOOT/boot.env"), "list"]);
  t.regex(env.stdout, / SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 user_namespace\.enable=1 /);
});

// ---- Network: the boot interface found by BOOTIF's MAC inside a network namespace this test makes. ----

const MAC = "52:54:00:12:34:56";
let nsCount = 0;

async function withNamespace(t: ExecutionContext): Promise<string> {
  const ns = `metal-ks-${process.pid}-${nsCount++}`;
  const ip = (...a: string[]) => execa("ip", a);
  await ip("netns", "add", ns);
  t.teardown(() => execa("ip", ["netns", "del", ns], { reject: false }).then(() => undefined));
  // A veth pair inside the namespace: its eth7 end carries the boot NIC's MAC.
  await ip("-n", ns, "link", "add", "eth7", "type", "veth", "peer", "name", "eth7p");
  await ip("-n", ns, "link", "set", "eth7", "address", MAC);
  await ip("-n", ns, "link", "set", "eth7", "up");
  await ip("-n", ns, "link", "set", "lo", "up");
  return ns;
}

async function networkInstall(t: ExecutionContext, ns: string, cmdline: string, extraEnv: Record<string, string> = {}): Promise<Sandbox> {
  const s = sandbox(NODES.large.hw, cmdline);
  await install(t, s, ["%ks-early", "%post"]);
  const r = await runBlock(s, blocksOf(KS, "%post --nochroot")[0]!, ["ip", "netns", "exec", ns], extraEnv);
  t.is(r.exitCode, 0, r.all);
  return s;
}

const read = (s: Sandbox, f: string) => readFileSync(join(s.root, f), "utf8");
const IPV6_OFF = (d: string) =>
  `    post-up echo 0 > /proc/sys/net/ipv6/conf/${d}/autoconf; echo 0 > /proc/sys/net/ipv6/conf/${d}/accept_ra; echo 0 > /proc/sys/net/ipv6/conf/${d}/accept_redirects\n`;

test("network from the boot line: BOOTIF finds the interface, ip= and vlan= give a static management VLAN, the pxeboot alias stays DHCP", async (t) => {
  const ns = await withNamespace(t);
  const s = await networkInstall(
    t,
    ns,
    `traits=worker ${FEED} BOOTIF=01-${MAC.replaceAll(":", "-")} ip=192.168.204.23,,192.168.204.1,20,worker-3,eth7,off vlan=eth7.166:eth7`,
  );
  t.is(read(s, "etc/hostname"), "worker-3\n");
  t.regex(read(s, "etc/platform/platform.conf"), /^management_interface=vlan166$/m);
  t.is(read(s, "etc/network/interfaces.d/ifcfg-eth7"), `auto eth7\niface eth7 inet manual\n${IPV6_OFF("eth7")}`);
  t.is(
    read(s, "etc/network/interfaces.d/ifcfg-vlan166"),
    `auto vlan166\niface vlan166 inet static\n    address 192.168.204.23\n    netmask 255.255.240.0\n    gateway 192.168.204.1\n    vlan-raw-device eth7\n${IPV6_OFF("vlan166")}`,
  );
  t.is(read(s, "etc/network/interfaces.d/ifcfg-pxeboot"), `auto eth7:2\niface eth7:2 inet dhcp\n${IPV6_OFF("eth7")}`);
  t.is(read(s, "etc/network/interfaces.d/ifcfg-lo"), "auto lo\niface lo inet loopback\n");
});

test("network from sysinv as the original asks it (/v1/ihosts/<mac>/mgmt_ip, /v1/isystems/mgmtvlan): static IPv6 management on the boot interface", async (t) => {
  const ns = await withNamespace(t);
  // sysinv's two answers, served inside the node's namespace (its loopback) by a real HTTP server.
  const server: ChildProcess = spawn(
    "ip",
    [
      "netns",
      "exec",
      ns,
      process.execPath,
      "-e",
      `require("http").createServer((q, r) => {
        if (q.url === "/v1/ihosts/${MAC}/mgmt_ip") r.end(JSON.stringify({ address: "fd00:204::23", netmask: "64", floating: "fd00:204::2", hostname: "controller-1" }));
        else if (q.url === "/v1/isystems/mgmtvlan") r.end("0");
        else { r.statusCode = 404; r.end(); }
      }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  t.teardown(() => {
    server.kill("SIGKILL");
  });
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("sysinv stand-in did not start within 60 s")), 60_000);
    server.stdout?.once("data", (d: Buffer) => {
      clearTimeout(timer);
      resolve(d.toString().trim());
    });
  });
  const s = await networkInstall(t, ns, `traits=controller ${FEED} BOOTIF=01-${MAC.replaceAll(":", "-")}`, { KS_SYSINV_URL: `http://127.0.0.1:${port}` });
  t.is(read(s, "etc/hostname"), "controller-1\n");
  t.is(read(s, "etc/resolv.conf"), "nameserver fd00:204::2\n");
  t.regex(read(s, "etc/platform/platform.conf"), /^management_interface=eth7$/m);
  t.is(
    read(s, "etc/network/interfaces.d/ifcfg-eth7"),
    `auto eth7\niface eth7 inet6 static\n    address fd00:204::23\n    netmask 64\n    gateway fd00:204::2\n${IPV6_OFF("eth7")}`,
  );
});

test("network on a USB install without BOOTIF or ip=: only loopback, management_interface=lo", async (t) => {
  const ns = await withNamespace(t);
  const s = await networkInstall(t, ns, "traits=controller,worker insturl=file://NOT_SET/ostree_repo");
  t.regex(read(s, "etc/platform/platform.conf"), /^management_interface=lo$/m);
  t.is(read(s, "etc/network/interfaces.d/ifcfg-lo"), "auto lo\niface lo inet loopback\n");
  t.throws(() => read(s, "etc/network/interfaces.d/ifcfg-pxeboot"));
});
