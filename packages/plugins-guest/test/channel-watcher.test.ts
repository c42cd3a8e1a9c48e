import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VirtualClock } from "@metal/core/clock/index";
import { silentLogger } from "@metal/core/logging/index";
import test from "ava";
import { ChannelWatcher, channelUuid } from "../src/server/channel-watcher.js";

const UUID = "77777777-aaaa-4bbb-8ccc-000000000007";

test("channel names: cgcs. and the older wrs. form; anything else is ignored", (t) => {
  t.is(channelUuid(`cgcs.heartbeat.${UUID}.sock`), UUID);
  t.is(channelUuid(`wrs.heartbeat.agent.0.${UUID}.sock`), UUID);
  t.is(channelUuid(`cgcs.heartbeat.${UUID.slice(1)}.sock`), undefined);
  t.is(channelUuid("cgcs.heartbeat.not-a-uuid-but-36-chars-long-xxxxxxxxxx.sock"), undefined);
  t.is(channelUuid(`cgcs.heartbeat.${UUID}.sock.tmp`), undefined);
});

test("the 180 s rescan runs on the injected clock: a directory that appears later is found at the next rescan", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "metal-guest-watch-"));
  const dir = join(root, "qemu");
  const clock = new VirtualClock();
  const added: string[] = [];
  const removed: string[] = [];
  const watcher = new ChannelWatcher(dir, clock, silentLogger(), 180_000, { added: (u) => added.push(u), removed: (u) => removed.push(u) });
  const server = createServer();
  t.teardown(() => {
    watcher.stop();
    server.close();
    rmSync(root, { recursive: true, force: true });
  });
  watcher.start(); // the directory does not exist: no watch, only rescans
  mkdirSync(dir);
  await new Promise<void>((r) => server.listen(join(dir, `cgcs.heartbeat.${UUID}.sock`), () => r()));
  writeFileSync(join(dir, `cgcs.heartbeat.${UUID.replace("7", "8")}.sock`), "a regular file is not a channel");
  await clock.advance(179_000);
  t.deepEqual(added, []);
  await clock.advance(1000);
  t.deepEqual(added, [UUID]);
  // The rescan also notices a channel that went while nobody watched.
  watcher.stop();
  unlinkSync(join(dir, `cgcs.heartbeat.${UUID}.sock`));
  watcher.scan();
  t.deepEqual(removed, [UUID]);
});
