import { readFileSync } from "node:fs";
import { SystemClock } from "@metal/core/clock/index";
import { secretFromString } from "@metal/core/di/secret";
import type { BmcError } from "@metal/core/plugin-api";
import test from "ava";
import { RedfishDriver } from "../src/driver.js";
import { RedfishEmulator } from "../src/emulator/server.js";
import { selfSignedCert as makeCert } from "../src/emulator/test-cert.js";

test("TLS verification is on by default; the CA option or --insecure let the call through", async (t) => {
  const { cert, key } = makeCert();
  const emulator = new RedfishEmulator();
  const { port } = await emulator.listen({ port: 0, tls: { cert: readFileSync(cert), key: readFileSync(key) } });
  t.teardown(() => emulator.close());
  const target = (extra: object) => ({
    host: "h",
    address: "127.0.0.1",
    port,
    username: "root",
    password: secretFromString("calvin"),
    timeoutMs: 5_000,
    options: { httpRetries: 1 },
    ...extra,
  });
  const strict = new RedfishDriver(target({}), new SystemClock());
  const err = await t.throwsAsync(strict.power.status());
  t.is((err as BmcError).code, "protocol");
  t.regex(err!.message, /TLS verification failed/);
  await strict.close();
  const withCa = new RedfishDriver(target({ caFile: cert }), new SystemClock());
  t.is(await withCa.power.status(), "off");
  await withCa.close();
  const insecure = new RedfishDriver(target({ insecure: true }), new SystemClock());
  t.is(await insecure.power.status(), "off");
  await insecure.close();
  t.is(emulator.activeSessions(), 0);
});

test("a BMC that answers plain HTTP to https is told apart from a certificate problem: use --scheme http", async (t) => {
  const emulator = new RedfishEmulator();
  const { port } = await emulator.listen({ port: 0 });
  t.teardown(() => emulator.close());
  const target = (extra: object, options: object = {}) => ({
    host: "h",
    address: "127.0.0.1",
    port,
    username: "root",
    password: secretFromString("calvin"),
    timeoutMs: 5_000,
    options: { httpRetries: 1, ...options },
    ...extra,
  });
  for (const extra of [{}, { insecure: true }]) {
    const https = new RedfishDriver(target(extra), new SystemClock());
    const err = await t.throwsAsync(https.power.status());
    t.is((err as BmcError).code, "protocol");
    t.regex(err!.message, /answers plain HTTP, not TLS; use --scheme http/);
    t.notRegex(err!.message, /--ca|--insecure/);
    await https.close();
  }
  const http = new RedfishDriver(target({}, { scheme: "http" }), new SystemClock());
  t.is(await http.power.status(), "off");
  await http.close();
});
