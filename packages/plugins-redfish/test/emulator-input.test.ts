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
  );
  t.pass();
});
