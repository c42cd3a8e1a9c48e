import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { execa } from "execa";

/**
 * Debian's python3-sushy (Ironic's Redfish library) is a client nobody here wrote: pointed at
 * `metal redfish-emulator`, it must find everything it requires (issue 15 item 12) and drive system, power,
 * boot, virtual media, processors, storage and an event subscription.
 */
const main = fileURLToPath(new URL("../../packages/core/dist/src/cli/main.js", import.meta.url));
const script = fileURLToPath(new URL("../python/sushy_client.py", import.meta.url));

test("python3-sushy drives metal redfish-emulator: system, power, boot, virtual media, processors, storage, events", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-sushy-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pw = join(dir, "pw");
  writeFileSync(pw, "calvin\n", { mode: 0o600 });
  const emulator = execa(process.execPath, [main, "redfish-emulator", "--port", "0"], { reject: false });
  t.teardown(() => {
    emulator.kill("SIGTERM");
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("redfish-emulator did not start within 30 s")), 30_000);
    emulator.stdout?.on("data", (c: Buffer) => {
      const m = /listening on (\S+)/.exec(c.toString());
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void emulator.then((r) => reject(new Error(`redfish-emulator exited: ${r.stderr}`)));
  });
  const r = await execa("/usr/bin/python3", [script, url, "http://127.0.0.1:8080/bootimage.iso"], {
    reject: false,
    timeout: 90_000,
    env: { RF_USER: "root", RF_PASSWORD_FILE: pw },
  });
  t.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  t.like(out, {
    system: { identity: "1", manufacturer: "Metal Emulated Systems", model: "RF-1000" },
    powered_on: true,
    boot: { target: "Pxe", enabled: "Once" },
    // sushy counts threads in its summary: 2 sockets x 16 threads.
    processors: { count: 2, summary_count: 32, architecture: "x86" },
    storage_max_bytes: 480_103_981_056,
    secure_boot: false,
    media_inserted: true,
    media_ejected: true,
    update_service: "UpdateService",
    task_service: "TaskService",
    subscription: { context: "sushy-test" },
    event_context: "sushy-test",
    subscriptions_after_delete: 0,
  });
  t.deepEqual(out.nics, { "52:54:00:12:34:56": "Enabled" });
  t.deepEqual(out.events_received, ["TestEvent.1.0.TestEvent"]);
  t.true((out.bios_attributes as string[]).includes("BootMode"));
});
