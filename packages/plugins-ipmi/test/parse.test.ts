import test from "ava";
import * as fc from "fast-check";
import { parseInfo, parseSensorList } from "../src/parse.js";

test("parseSensorList never throws on random text and counts malformed lines", (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 2000 }), (text) => {
      const r = parseSensorList(text);
      return r.errors >= 0 && r.readings.every((x) => x.value === null || Number.isFinite(x.value));
    }),
    { numRuns: 1000 },
  );
  t.is(parseSensorList("garbage\nmore | garbage\n").errors, 2);
});

test("a generated sensor line parses back to its fields", (t) => {
  const num = fc.oneof(fc.constant(undefined), fc.integer({ min: -1000, max: 100000 }));
  // fc.assert throws with the counter-example when the property fails.
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z][A-Za-z0-9_ .-]{0,15}$/),
        fc.integer({ min: 0, max: 100000 }),
        fc.constantFrom("ok", "nc", "cr", "nr", "na", "lnc", "ucr", "unr"),
        fc.array(num, { minLength: 6, maxLength: 6 }),
        (name, value, status, th) => {
          const cols = [name.trim(), value.toFixed(3), "degrees C", status, ...th.map((v) => (v === undefined ? "na" : v.toFixed(3)))];
          const { readings, errors } = parseSensorList(`${cols.map((c) => c.padEnd(10)).join("| ")}\n`);
          if (name.trim() === "") return errors === 1;
          const r = readings[0]!;
          const expected = { ok: "ok", nc: "nc", lnc: "nc", cr: "cr", ucr: "cr", nr: "nr", unr: "nr", na: "na" }[status];
          return (
            errors === 0 && r.name === name.trim() && r.value === value && r.status === expected && (r.thresholds?.upperNonRecoverable ?? undefined) === th[5]
          );
        },
      ),
      { numRuns: 500 },
    ),
  );
});

test("parseInfo takes manufacturer, product and firmware from mc info, the serial from FRU", (t) => {
  const mc =
    "Device ID                 : 32\nFirmware Revision         : 2.41\nManufacturer ID           : 674\nManufacturer Name         : DELL Inc\nProduct Name              : PowerEdge\n    continuation\n";
  const fru = " Product Serial        : ABC123\n";
  const info = parseInfo(mc, fru.trimStart());
  t.like(info, { manufacturer: "DELL Inc", model: "PowerEdge", firmwareVersion: "2.41", serial: "ABC123" });
});
