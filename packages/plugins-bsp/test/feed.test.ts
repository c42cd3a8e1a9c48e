import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { bootImageName, FeedError, planFeed, syncFeed } from "../src/feed/layout.js";
import { tempDir } from "./helpers.js";

function staging(): string {
  const dir = tempDir("metal-feed-");
  const dep = join(dir, "ostree/starlingx-abc123");
  mkdirSync(dep, { recursive: true });
  mkdirSync(join(dir, "efi"), { recursive: true });
  mkdirSync(join(dir, "kickstart"), { recursive: true });
  const put = (rel: string, text: string) => writeFileSync(join(dir, rel), text);
  put("ostree/starlingx-abc123/vmlinuz-6.6.0-1-amd64", "std kernel");
  put("ostree/starlingx-abc123/vmlinuz-6.6.0-1-amd64.sig", "std sig");
  put("ostree/starlingx-abc123/vmlinuz-6.6.0-1-rt-amd64", "rt kernel");
  put("ostree/starlingx-abc123/initramfs-6.6.0-1-amd64", "initramfs");
  put("efi/bootx64.efi", "shim");
  put("efi/grubx64.efi", "grub");
  put("efi/LockDown.efi.sig", "lockdown sig");
  put("kickstart/kickstart.cfg", "# ks");
  put("kickstart/miniboot.cfg", "# miniboot");
  put("ostree/starlingx-abc123/config-6.6.0-1-amd64", "not a boot image");
  return dir;
}

test("boot image names follow pxeboot_feed.sh's mapping, .sig included", (t) => {
  t.is(bootImageName("initramfs-6.6.0-1-amd64"), "initrd");
  t.is(bootImageName("vmlinuz-6.6.0-1-rt-amd64"), "bzImage-rt");
  t.is(bootImageName("vmlinuz-6.6.0-1-amd64"), "bzImage-std");
  t.is(bootImageName("vmlinuz-6.6.0-1-amd64.sig"), "bzImage-std.sig");
  t.is(bootImageName("vmlinuz"), "bzImage");
  t.is(bootImageName("config-6.6.0-1-amd64"), undefined);
});

test("the feed lands in the TFTP tree and the HTTP feed; a second run copies nothing; one change copies one file", (t) => {
  const from = staging();
  const out = tempDir("metal-feed-out-");
  const first = syncFeed(from, out, "24.09");
  t.deepEqual(first.copied, [
    "feed/rel-24.09/kickstart/kickstart.cfg",
    "feed/rel-24.09/kickstart/miniboot.cfg",
    "feed/rel-24.09/pxeboot/bzImage-rt",
    "feed/rel-24.09/pxeboot/bzImage-std",
    "feed/rel-24.09/pxeboot/bzImage-std.sig",
    "feed/rel-24.09/pxeboot/initrd",
    "pxeboot/EFI/BOOT/LockDown.efi.sig",
    "pxeboot/EFI/BOOT/bootx64.efi",
    "pxeboot/EFI/BOOT/grubx64.efi",
    "pxeboot/rel-24.09/bzImage-rt",
    "pxeboot/rel-24.09/bzImage-std",
    "pxeboot/rel-24.09/bzImage-std.sig",
    "pxeboot/rel-24.09/initrd",
  ]);
  t.is(readFileSync(join(out, "pxeboot/rel-24.09/bzImage-rt"), "utf8"), "rt kernel");
  t.true(first.installUuidCreated);
  t.regex(readFileSync(join(out, "feed/rel-24.09/install_uuid"), "utf8"), /^[0-9a-f-]{36}\n$/);

  const second = syncFeed(from, out, "24.09");
  t.deepEqual(second.copied, []);
  t.is(second.unchanged.length, 13);
  t.is(second.installUuid, first.installUuid, "the install uuid is made once and kept");
  t.false(second.installUuidCreated);

  // Same size, different content: still copied.
  writeFileSync(join(from, "ostree/starlingx-abc123/vmlinuz-6.6.0-1-rt-amd64"), "RT kernel");
  const third = syncFeed(from, out, "24.09");
  t.deepEqual(third.copied, ["feed/rel-24.09/pxeboot/bzImage-rt", "pxeboot/rel-24.09/bzImage-rt"]);
  t.is(readFileSync(join(out, "feed/rel-24.09/pxeboot/bzImage-rt"), "utf8"), "RT kernel");
});

test("two deployments with the same image, or none, are clear errors", (t) => {
  const from = staging();
  mkdirSync(join(from, "ostree/other"));
  writeFileSync(join(from, "ostree/other/vmlinuz-6.1.0-amd64"), "old");
  t.throws(() => planFeed(from, "24.09"), { instanceOf: FeedError, message: /both .* map to pxeboot\/rel-24\.09\/bzImage-std/ });
  const empty = tempDir();
  t.throws(() => planFeed(empty, "24.09"), { instanceOf: FeedError, message: /has no vmlinuz\*-amd64 image/ });
  t.throws(() => planFeed(join(empty, "absent"), "24.09"), { instanceOf: FeedError, message: /is not a directory/ });
});

test("metal bsp feed --json reports copied and unchanged files", (t) => {
  const main = fileURLToPath(import.meta.resolve("@metal/core/cli/main"));
  const from = staging();
  const out = tempDir();
  const run = () => spawnSync(process.execPath, [main, "bsp", "feed", "--from", from, "--out", out, "--sw-version", "24.09", "--json"], { encoding: "utf8" });
  const a = run();
  t.is(a.status, 0, a.stderr);
  t.is((JSON.parse(a.stdout) as { copied: string[] }).copied.length, 13);
  const b = run();
  t.is((JSON.parse(b.stdout) as { unchanged: string[] }).unchanged.length, 13);
  const bad = spawnSync(process.execPath, [main, "bsp", "feed", "--from", join(out, "nope"), "--out", out], { encoding: "utf8" });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^metal: .*nope is not a directory/);
});

test("the feed links EFI/BOOT/grub.cfg to ../../pxelinux.cfg/grub.cfg, where the shim's GRUB finds the pxeboot menu", async (t) => {
  const { lstatSync, readlinkSync, rmSync, symlinkSync } = await import("node:fs");
  const { generatePxeboot } = await import("../src/pxeboot/generate.js");
  const { loadHostList } = await import("../src/hosts/host-list.js");
  const { STANDARD_HOSTS, writeFixture } = await import("./helpers.js");
  const from = staging();
  const out = tempDir("metal-feed-out-");
  await generatePxeboot(await loadHostList(writeFixture(from, "hosts.yaml", STANDARD_HOSTS)), join(out, "pxeboot"));
  const first = syncFeed(from, out, "24.09");
  t.deepEqual(first.linked, ["pxeboot/EFI/BOOT/grub.cfg"]);
  const link = join(out, "pxeboot/EFI/BOOT/grub.cfg");
  t.true(lstatSync(link).isSymbolicLink());
  t.is(readlinkSync(link), "../../pxelinux.cfg/grub.cfg");
  // Followed, it is the UEFI menu that tries efi-01-<mac>.cfg.
  t.regex(readFileSync(link, "utf8"), /configfile "pxelinux\.cfg\/efi-01-\$\{conf\}\.cfg"/);
  t.deepEqual(syncFeed(from, out, "24.09").linked, [], "a second run leaves the link alone");
  rmSync(link);
  symlinkSync("grubx64.cfg", link);
  t.deepEqual(syncFeed(from, out, "24.09").linked, ["pxeboot/EFI/BOOT/grub.cfg"], "a wrong link is corrected");
});

test("a staging directory without a kickstart gets the release's unified kickstart in the feed", async (t) => {
  const { rmSync } = await import("node:fs");
  const { renderKickstart } = await import("../src/kickstart/render.js");
  const from = staging();
  rmSync(join(from, "kickstart/kickstart.cfg"));
  const out = tempDir("metal-feed-out-");
  const ks = renderKickstart({ swVersion: "24.09" });
  t.true(syncFeed(from, out, "24.09", { kickstart: ks }).copied.includes("feed/rel-24.09/kickstart/kickstart.cfg"));
  t.is(readFileSync(join(out, "feed/rel-24.09/kickstart/kickstart.cfg"), "utf8"), ks);
  t.false(syncFeed(from, out, "24.09", { kickstart: ks }).copied.includes("feed/rel-24.09/kickstart/kickstart.cfg"));
});
