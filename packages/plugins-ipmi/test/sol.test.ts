import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { PtyPair } from "@metal/core/testing";
import test from "ava";
import { IpmiSim } from "../src/testing/ipmi-sim.js";
import { simDriver } from "./helpers.js";

test("SOL streams the host's serial console both ways (ipmi_sim sol on a socat pty pair)", async (t) => {
  const pty = await PtyPair.open();
  const sim = await IpmiSim.start({ solDevice: pty.a });
  t.teardown(async () => {
    await sim.stop();
    await pty.close();
  });
  const d = simDriver(sim);
  const stream = await d.console!.open();
  let received = "";
  stream.onData((c) => {
    received += c.toString();
  });
  // Play the host: write a login prompt on the far end of the serial line.
  const host = openSync(pty.b, "r+");
  writeSync(host, "worker-0 login: ");
  for (let i = 0; i < 100 && !received.includes("login:"); i++) await new Promise((r) => setTimeout(r, 50));
  t.is(received, "worker-0 login: ", "the banner is not part of the console stream");
  // And type into the console: the host reads it from its serial device.
  await stream.write("root\r");
  const buf = Buffer.alloc(64);
  let typed = "";
  for (let i = 0; i < 50 && !typed.includes("root"); i++) {
    const n = readSync(host, buf, 0, buf.length, null);
    typed += buf.subarray(0, n).toString();
  }
  t.true(typed.includes("root"));
  closeSync(host);
  await stream.close();
  // The payload was released: a second console opens at once.
  const again = await d.console!.open();
  await again.close();
  await d.close();
});
