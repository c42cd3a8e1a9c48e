import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { execa } from "execa";
import { dnsmasqConfig } from "../src/dnsmasq/config.js";
import { loadHostList } from "../src/hosts/host-list.js";
import { generatePxeboot } from "../src/pxeboot/generate.js";
import { AIO_DX_HOSTS, assertGolden, runTool, STANDARD_HOSTS, tempDir, writeFixture } from "./helpers.js";

test("golden: the dnsmasq config for a standard system with a DHCP range", async (t) => {
  const dir = tempDir();
  const list = await loadHostList(writeFixture(dir, "hosts.yaml", STANDARD_HOSTS));
  assertGolden(t, "dnsmasq-standard.conf", dnsmasqConfig(list));
});

test("the config has one dhcp-host per MAC and picks the boot file by client architecture", async (t) => {
  const dir = tempDir();
  const conf = dnsmasqConfig(await loadHostList(writeFixture(dir, "hosts.yaml", AIO_DX_HOSTS)), { tftpRoot: "/srv/tftp" });
  t.deepEqual(
    conf.split("\n").filter((l) => l.startsWith("dhcp-host=")),
    [
      "dhcp-host=52:54:00:aa:bb:01,set:metal-host,controller-0",
      "dhcp-host=52:54:00:aa:bb:02,set:metal-host,controller-1",
      "dhcp-host=52:54:00:aa:bb:03,set:metal-host,192.168.202.50,worker-0",
      "dhcp-host=52:54:00:aa:bb:04,set:metal-host,worker-1",
    ],
  );
  t.regex(conf, /^tftp-root=\/srv\/tftp$/m);
  for (const arch of [2, 6, 7, 8, 9, 11]) t.regex(conf, new RegExp(`^dhcp-match=set:efi,option:client-arch,${arch}$`, "m"));
  for (const arch of [0, 1, 3, 4, 5]) t.regex(conf, new RegExp(`^dhcp-match=set:bios,option:client-arch,${arch}$`, "m"));
  t.regex(conf, /^dhcp-boot=tag:efi,EFI\/BOOT\/bootx64\.efi$/m, "the shim, as the original serves it");
  t.regex(conf, /^dhcp-boot=tag:!efi,pxelinux\.0$/m);
  t.notRegex(conf, /grubx64\.efi/);
  t.notRegex(conf, /dhcp-range/, "no range without system.dhcp");
});

test("dnsmasq --test accepts the generated configs and rejects a corrupted one", async (t) => {
  const dir = tempDir();
  for (const [name, hosts] of [
    ["aio", AIO_DX_HOSTS],
    ["std", STANDARD_HOSTS],
  ]) {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, dnsmasqConfig(await loadHostList(writeFixture(dir, `${name}.yaml`, hosts!))));
    const r = await runTool(t, "dnsmasq", ["--test", "-C", file], "dnsmasq");
    t.is(r.exitCode, 0, r.all);
    t.regex(r.all ?? "", /syntax check OK/);
    writeFileSync(file, readFileSync(file, "utf8").replace("dhcp-boot=tag:efi,", "dhcp-bot=tag:efi,"));
    t.not((await runTool(t, "dnsmasq", ["--test", "-C", file], "dnsmasq")).exitCode, 0, "a broken line is caught");
  }
});

/** Wait until dnsmasq's TFTP answers (bounded: 50 tries); the last error explains a failure. */
async function fetchTftp(path: string): Promise<string> {
  let last = "";
  for (let i = 0; i < 50; i++) {
    const r = await execa("curl", ["-sS", "--max-time", "2", `tftp://127.0.0.1${path}`], { reject: false, encoding: "utf8", stripFinalNewline: false });
    if ((r as { code?: string }).code === "ENOENT") throw new Error("curl is not installed (Debian package curl)");
    if (r.exitCode === 0) return r.stdout;
    last = r.stderr;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`TFTP fetch of ${path} failed: ${last}`);
}

// TFTP has to be on port 69: serial, and dnsmasq is killed in teardown whatever happens.
test.serial("dnsmasq serves the generated tree over TFTP on loopback; curl and tftp-hpa fetch a host's per-MAC files", async (t) => {
  const dir = tempDir();
  const list = await loadHostList(writeFixture(dir, "hosts.yaml", AIO_DX_HOSTS));
  const root = join(dir, "tftp");
  await generatePxeboot(list, root);
  const conf = join(dir, "dnsmasq.conf");
  writeFileSync(conf, dnsmasqConfig(list, { tftpRoot: root }));
  // The generated config as is, bound to loopback only; no DHCP range here, so only TFTP runs.
  const child: ChildProcess = spawn(
    "dnsmasq",
    ["--no-daemon", "-C", conf, "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file=", "--log-facility=-"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let log = "";
  child.stdout?.on("data", (d) => (log += d));
  child.stderr?.on("data", (d) => (log += d));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  child.on("error", (err) => t.fail(`dnsmasq did not start: ${err.message} (Debian package dnsmasq)`));
  t.teardown(async () => {
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  const bios = await fetchTftp("/pxelinux.cfg/01-52-54-00-aa-bb-02").catch((e: Error) => t.fail(`${e.message}\n${log}`));
  t.is(bios, readFileSync(join(root, "pxelinux.cfg/01-52-54-00-aa-bb-02"), "utf8"));
  // What grubx64.efi asks for: the .cfg link, resolved by the server.
  const uefi = await fetchTftp("/pxelinux.cfg/efi-01-52-54-00-aa-bb-03.cfg");
  t.regex(uefi, /traits=worker instname/);
  t.regex(uefi, /instdev=\/dev\/nvme0n1 user_namespace\.enable=1 nopti nospectre_v2/);
  // tftp-hpa, the other real client, gets the fallback menu an unconfigured node gets.
  const got = join(dir, "default.got");
  const r = await runTool(t, "tftp", ["127.0.0.1", "-c", "get", "pxelinux.cfg/default", got], "tftp-hpa");
  t.is(r.exitCode, 0, r.all);
  t.is(readFileSync(got, "utf8"), readFileSync(join(root, "pxelinux.cfg/default"), "utf8"));
  // An unconfigured MAC has no file: the client gets a TFTP error, never another host's file.
  const missing = await execa("curl", ["-sS", "--max-time", "5", "tftp://127.0.0.1/pxelinux.cfg/01-52-54-00-00-00-99"], { reject: false });
  t.not(missing.exitCode, 0);
  t.regex(log, /sent .*01-52-54-00-aa-bb-02 to 127\.0\.0\.1/);
});

// ---- DHCP for real: dnsmasq on one end of a veth pair, busybox udhcpc on the other, in namespaces made here. ----

let pairs = 0;
/** Server and client namespaces joined by a veth pair; the server end has 10.201.0.1/24. */
async function dhcpLink(t: import("ava").ExecutionContext): Promise<{ server: string; client: string; serverIf: string; clientIf: string }> {
  const id = `${process.pid % 100000}${pairs++}`;
  const server = `metal-dhs-${id}`;
  const client = `metal-dhc-${id}`;
  const serverIf = `mds${id}`;
  const clientIf = `mdc${id}`;
  const ip = (...a: string[]) => execa("ip", a);
  await ip("netns", "add", server);
  t.teardown(() => execa("ip", ["netns", "del", server], { reject: false }).then(() => undefined));
  await ip("netns", "add", client);
  t.teardown(() => execa("ip", ["netns", "del", client], { reject: false }).then(() => undefined));
  await ip("link", "add", serverIf, "netns", server, "type", "veth", "peer", "name", clientIf, "netns", client);
  await ip("-n", server, "addr", "add", "10.201.0.1/24", "dev", serverIf);
  for (const [ns, dev] of [
    [server, serverIf],
    [client, clientIf],
    [server, "lo"],
    [client, "lo"],
  ] as const)
    await ip("-n", ns, "link", "set", dev, "up");
  return { server, client, serverIf, clientIf };
}

test.serial(
  "a DHCP client gets the shim for EFI architectures and pxelinux.0 for BIOS ones (option 93), from dnsmasq running the generated config",
  async (t) => {
    const dir = tempDir();
    const link = await dhcpLink(t);
    const hosts = `${STANDARD_HOSTS.replace("    rangeStart: 192.168.202.10\n    rangeEnd: 192.168.202.200", `    interface: ${link.serverIf}\n    rangeStart: 10.201.0.10\n    rangeEnd: 10.201.0.200`)}`;
    t.not(hosts, STANDARD_HOSTS);
    const list = await loadHostList(writeFixture(dir, "hosts.yaml", hosts));
    const conf = join(dir, "dnsmasq.conf");
    writeFileSync(conf, dnsmasqConfig(list, { tftpRoot: dir }));
    const dnsmasq: ChildProcess = spawn(
      "ip",
      ["netns", "exec", link.server, "dnsmasq", "--no-daemon", "-C", conf, "--pid-file=", "--log-facility=-", `--dhcp-leasefile=${join(dir, "leases")}`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let log = "";
    dnsmasq.stdout?.on("data", (d) => (log += d));
    dnsmasq.stderr?.on("data", (d) => (log += d));
    const exited = new Promise<void>((res) => dnsmasq.on("exit", () => res()));
    t.teardown(async () => {
      dnsmasq.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    });
    // udhcpc hands the lease to this script in its environment; it records the boot file name.
    const script = join(dir, "udhcpc.sh");
    writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && echo "$boot_file" > "$OUT"\nexit 0\n`, { mode: 0o755 });
    const bootFileFor = async (arch: number | undefined): Promise<string> => {
      const out = join(dir, `boot-${arch ?? "none"}`);
      const opt = arch === undefined ? [] : ["-x", `0x5d:${arch.toString(16).padStart(4, "0")}`];
      const r = await execa(
        "ip",
        ["netns", "exec", link.client, "busybox", "udhcpc", "-i", link.clientIf, "-f", "-q", "-n", "-t", "20", "-T", "1", "-A", "1", "-s", script, ...opt],
        {
          reject: false,
          timeout: 90_000,
          env: { OUT: out },
          all: true,
        },
      );
      if ((r as { code?: string }).code === "ENOENT") throw new Error("busybox is not installed (Debian package busybox)");
      t.is(r.exitCode, 0, `udhcpc arch ${arch}: ${r.all}\n${log}`);
      return readFileSync(out, "utf8").trim();
    };
    for (const arch of [7, 9, 6, 11, 2, 8]) t.is(await bootFileFor(arch), "EFI/BOOT/bootx64.efi", `client-arch ${arch}`);
    for (const arch of [0, 1, 3, 4, 5]) t.is(await bootFileFor(arch), "pxelinux.0", `client-arch ${arch}`);
    t.is(await bootFileFor(undefined), "pxelinux.0", "no option 93: a legacy PXE ROM");
    t.regex(log, /DHCPACK\(mds/);
  },
);
