import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { AIO_DX_HOSTS, tempDir, writeFixture } from "./helpers.js";

const main = fileURLToPath(import.meta.resolve("@metal/core/cli/main"));
const metal = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8", timeout: 120_000 });

test("metal bsp is contributed by the plugin, with help for every sub-command", (t) => {
  const help = metal("bsp", "--help");
  t.is(help.status, 0, help.stderr);
  for (const sub of ["pxeboot", "kickstart", "feed", "dnsmasq", "rvmc"]) {
    t.regex(help.stdout, new RegExp(`\\b${sub}\\b`), sub);
    t.is(metal("bsp", sub, "--help").status, 0, sub);
  }
});

test("metal bsp pxeboot writes the tree and reports it as JSON; --remove deletes a host's files", (t) => {
  const dir = tempDir();
  const hosts = writeFixture(dir, "hosts.yaml", AIO_DX_HOSTS);
  const out = join(dir, "tree");
  const r = metal("bsp", "pxeboot", "--hosts", hosts, "--out", out, "--json", "--progress", "always");
  t.is(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { hosts: Array<{ hostname: string; files: string[] }> };
  t.is(result.hosts.length, 4);
  t.regex(r.stderr, /pxeboot \[.*\] 4\/4 100%/, "the progress bar reaches the end");
  t.true(existsSync(join(out, "pxelinux.cfg/efi-01-52-54-00-aa-bb-04.cfg")));
  const rm = metal("bsp", "pxeboot", "--hosts", hosts, "--out", out, "--remove", "worker-1", "52:54:00:aa:bb:03");
  t.is(rm.status, 0, rm.stderr);
  t.false(existsSync(join(out, "pxelinux.cfg/01-52-54-00-aa-bb-04")));
  t.false(existsSync(join(out, "pxelinux.cfg/efi-01-52-54-00-aa-bb-03.cfg")));
  t.true(existsSync(join(out, "pxelinux.cfg/01-52-54-00-aa-bb-01")));
  const bad = metal("bsp", "pxeboot", "--hosts", hosts, "--out", out, "--remove", "no-such-host");
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^metal: --remove: 'no-such-host' is neither a MAC nor a hostname/);
});

test("a bad host list exits 2 and lists every problem; dnsmasq writes its config", (t) => {
  const dir = tempDir();
  const hosts = writeFixture(dir, "bad.yaml", AIO_DX_HOSTS.replace("52:54:00:aa:bb:03", "52:54:00:aa:bb").replace("ttyS1,115200n8", "lpt1"));
  const r = metal("bsp", "pxeboot", "--hosts", hosts, "--out", join(dir, "tree"));
  t.is(r.status, 2);
  t.regex(r.stderr, /^metal: .*bad\.yaml: 2 problems:/);
  t.regex(r.stderr, /hosts\[2\] \(worker-0\)\.mac: bad MAC/);
  t.regex(r.stderr, /hosts\[1\] \(controller-1\)\.console: unknown console 'lpt1'/);
  t.false(existsSync(join(dir, "tree")), "nothing written for a bad list");
  const good = writeFixture(dir, "good.yaml", AIO_DX_HOSTS);
  const d = metal("bsp", "dnsmasq", "--hosts", good, "--out", join(dir, "dnsmasq.conf"), "--tftp-root", "/srv/tftp");
  t.is(d.status, 0, d.stderr);
  t.regex(readFileSync(join(dir, "dnsmasq.conf"), "utf8"), /^tftp-root=\/srv\/tftp$/m);
});
