import { closeSync, mkdtempSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { consoleLogPath, followConsole } from "../src/bmc/console-follow.js";
import { serialConsole } from "../src/bmc/serial-console.js";
import { PtyPair } from "../src/testing/pty-pair.js";

test("a serial-line console (serialport on a socat pty pair) is followed into the host's log file, both ways", async (t) => {
  const pty = await PtyPair.open();
  t.teardown(() => pty.close());
  const dir = mkdtempSync(join(tmpdir(), "metal-console-"));
  const seen: string[] = [];
  const f = await followConsole(serialConsole(pty.a, 115200, "worker-3"), consoleLogPath(dir, "worker-3"), (c) => seen.push(c.toString()));
  const host = openSync(pty.b, "r+");
  writeSync(host, "Booting worker-3...\r\nworker-3 login: ");
  for (let i = 0; i < 100 && !seen.join("").includes("login:"); i++) await new Promise((r) => setTimeout(r, 20));
  t.is(seen.join(""), "Booting worker-3...\r\nworker-3 login: ");
  await f.stream.write("root\r");
  const buf = Buffer.alloc(32);
  const n = readSync(host, buf, 0, buf.length, null);
  t.is(buf.subarray(0, n).toString(), "root\r");
  closeSync(host);
  await f.stop();
  t.is(readFileSync(join(dir, "worker-3.log"), "utf8"), "Booting worker-3...\r\nworker-3 login: ");
  t.is(f.bytes, Buffer.byteLength("Booting worker-3...\r\nworker-3 login: "));
});

test("a missing serial device is a clear 'unreachable' error; a hostile hostname is refused for the log path", async (t) => {
  const err = await t.throwsAsync(serialConsole("/dev/does-not-exist-metal", 115200, "w").open());
  t.is((err as { code?: string }).code, "unreachable");
  t.throws(() => consoleLogPath("/tmp", "../etc/passwd"), { message: /invalid hostname/ });
});
