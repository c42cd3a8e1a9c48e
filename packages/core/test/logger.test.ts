import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import test from "ava";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { secretFromFile, secretFromString } from "../src/di/secret.js";
import { createLogger } from "../src/logging/logger.js";
import { RateLimitedLog } from "../src/logging/rate-limited.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  return { lines, destination };
}

test("credential fields are redacted and each event is one JSON line", (t) => {
  const { lines, destination } = capture();
  const log = createLogger({ destination });
  log.info({ bmc: { address: "10.0.0.1", password: "hunter2" }, token: "abc", headers: { authorization: "Basic xyz" } }, "bmc provisioned");
  log.info({ secret: secretFromString("s3cr3t") }, "secret object");
  t.is(lines.length, 2);
  for (const l of lines) t.notThrows(() => JSON.parse(l));
  const all = lines.join("\n");
  for (const leaked of ["hunter2", "abc", "Basic xyz", "s3cr3t"]) t.false(all.includes(leaked), leaked);
  t.true(all.includes("10.0.0.1"));
});

test("secrets print as [redacted] and group/world-readable secret files are refused", (t) => {
  const s = secretFromString("pw");
  t.is(String(s), "[redacted]");
  t.is(JSON.stringify({ s }), '{"s":"[redacted]"}');
  t.is(s.reveal(), "pw");
  const dir = mkdtempSync(join(tmpdir(), "metal-secret-"));
  const file = join(dir, "pw");
  writeFileSync(file, "filepw\n");
  chmodSync(file, 0o644);
  t.throws(() => secretFromFile(file), { message: /too open/ });
  chmodSync(file, 0o600);
  t.is(secretFromFile(file).reveal(), "filepw");
});

test("bad input is logged once per window, with a count of what was suppressed", async (t) => {
  const { lines, destination } = capture();
  const clock = new VirtualClock(0);
  const rl = new RateLimitedLog(createLogger({ destination }), clock, 10_000);
  for (let i = 0; i < 100; i++) rl.warn("bad-sig", { from: "127.0.0.1" }, "dropped datagram: bad signature");
  await clock.advance(10_000);
  rl.warn("bad-sig", { from: "127.0.0.1" }, "dropped datagram: bad signature");
  t.is(lines.length, 2);
  t.is(JSON.parse(lines[1]!).suppressed, 99);
});
