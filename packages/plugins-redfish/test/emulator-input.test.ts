import { request } from "node:http";
import test from "ava";
import * as fc from "fast-check";
import { parsePower, parseSensor, parseThermal } from "../src/sensors.js";
import { startEmulator } from "./helpers.js";

function send(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (c) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}` });

test("the emulator answers bad input with Redfish errors and keeps serving", async (t) => {
  const r = await startEmulator();
  t.teardown(() => r.emulator.close());
  const auth = basic("root", "calvin");
  t.is((await send(r.port, "GET", "/redfish/v1/Systems/1")).status, 401);
  t.is((await send(r.port, "POST", "/redfish/v1/SessionService/Sessions", "{not json")).status, 400);
  t.is((await send(r.port, "POST", "/redfish/v1/SessionService/Sessions", "[1,2]")).status, 400);
  t.is((await send(r.port, "POST", "/redfish/v1/SessionService/Sessions", "x".repeat(100_000))).status, 413);
  t.is((await send(r.port, "POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", '{"ResetType":"Explode"}', auth)).status, 400);
  t.is((await send(r.port, "POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", "{}", auth)).status, 400);
  t.is((await send(r.port, "GET", "/redfish/v1/%E0%A4%A", undefined, auth)).status, 500);
  t.is((await send(r.port, "GET", "/redfish/v1/NoSuchThing", undefined, auth)).status, 404);
  t.is((await send(r.port, "DELETE", "/redfish/v1/Systems/1", undefined, auth)).status, 405);
  t.is((await send(r.port, "PATCH", "/emulator/faults", '{"latencyMs":"slow"}')).status, 400);
  t.is((await send(r.port, "PATCH", "/emulator/faults", '{"bogus":1}')).status, 400);
  t.is((await send(r.port, "GET", "/redfish/v1/")).status, 200, "still serving");
});

test("fault knobs can be turned over HTTP while the emulator runs", async (t) => {
  const r = await startEmulator();
  t.teardown(() => r.emulator.close());
  const res = await send(r.port, "PATCH", "/emulator/faults", '{"sessionCap":0,"conflictOnSameState":true}');
  t.is(res.status, 200);
  t.is(r.emulator.faults.sessionCap, 0);
  t.true(r.emulator.faults.conflictOnSameState);
  const s = await send(r.port, "PATCH", "/emulator/sensors/Fan1", '{"reading":100,"health":"Critical"}');
  t.is(s.status, 200);
  t.like(
    r.emulator.machine.sensors.find((x) => x.name === "Fan1"),
    { reading: 100, health: "Critical" },
  );
});

test("sensor parsers never throw on arbitrary JSON and only return well-formed readings", (t) => {
  // fc.assert throws with the counter-example when the property fails.
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.anything(), (doc, member) => {
        const withArrays = { ...doc, Temperatures: [member, doc], Fans: [member], Voltages: [doc], PowerControl: [member], Redundancy: [doc] };
        for (const r of [...parseThermal(withArrays), ...parsePower(withArrays), parseSensor(doc)].filter((x) => x !== undefined)) {
          if (typeof r.name !== "string" || !(r.value === null || Number.isFinite(r.value))) return false;
          if (!["ok", "nc", "cr", "nr", "na"].includes(r.status)) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    ),
  );
});

test("a hostile 'BMC' (oversized or non-JSON answers) gives clear errors, never a crash", async (t) => {
  const { createServer } = await import("node:http");
  const { SystemClock } = await import("@metal/core/clock/index");
  const { secretFromString } = await import("@metal/core/di/secret");
  const { RedfishDriver } = await import("../src/driver.js");
  const big = Buffer.alloc(9 * 1024 * 1024, 0x20);
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/redfish/v1/Systems")) {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(big);
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(req.url === "/redfish/v1/" ? '{"RedfishVersion":"1.0.0"}' : "<html>not json</html>");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  const d = new RedfishDriver(
    { host: "h", address: "127.0.0.1", port, username: "u", password: secretFromString("p"), options: { scheme: "http", httpRetries: 1 } },
    new SystemClock(),
  );
  const err = await t.throwsAsync(d.power.status());
  t.is((err as { code?: string }).code, "protocol");
  t.regex(err!.message, /more than 8388608 bytes/);
  await d.close();
});
