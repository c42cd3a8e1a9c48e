/**
 * Issue 11 "Every input bounded and validated", as properties over the REST request path every router uses:
 * decodeRequestBody (bytes -> JSON object: size, depth, UTF-8) then the one host schema (newHostSchema for
 * POST /v1/hosts, decodePatch for PATCH). Valid bodies are accepted unchanged and are storable; hostile
 * nesting, oversize, invalid UTF-8, control characters, lone surrogates and unknown keys are refused with a
 * reason naming the problem; nothing ever throws.
 */
import test from "ava";
import fc from "fast-check";
import { decodeRequestBody, MAX_BODY, MAX_BODY_DEPTH } from "../src/api/request-body.js";
import { decodePatch } from "../src/api/schemas.js";
import { newHostRecord } from "../src/inventory/host.js";
import { checkHostRecord, newHostSchema, validateNewHost } from "../src/inventory/record-schema.js";

const hostname = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/);
const ip = fc.oneof(fc.ipV4(), fc.ipV6());
const mac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, "0")).join(":"));
/** Printable text: any Unicode scalar values but C0 controls and DEL (what the schema calls printable). */
const printableText = (max: number) =>
  fc.oneof(fc.string({ unit: fc.constantFrom(..."abcAZ09 _-.@"), maxLength: max }), fc.string({ unit: "binary", maxLength: max })).filter((s) => {
    for (const ch of s) {
      const c = ch.codePointAt(0) as number;
      if (c < 0x20 || c === 0x7f) return false;
    }
    return s.length <= max;
  });
const bmc = fc.record(
  {
    type: fc.constantFrom("ipmi", "redfish", "dynamic"),
    address: fc.oneof(fc.ipV4(), fc.constantFrom("bmc-0.example.net", "r640-1")),
    username: printableText(64).filter((s) => s.length >= 1),
    port: fc.integer({ min: 1, max: 65535 }),
    secretRef: fc.oneof(fc.constantFrom("/etc/metal/secrets/bmc.pw", "worker-0.pw"), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/)),
  },
  { requiredKeys: ["type", "address", "username"] },
);
const newHost = fc.record(
  {
    hostname,
    personality: fc.constantFrom("controller", "worker", "storage"),
    subfunctions: fc.uniqueArray(fc.constantFrom("controller", "worker", "storage", "lowlatency"), { minLength: 1, maxLength: 4 }),
    mgmtIp: ip,
    mgmtMac: mac,
    clusterHostIp: ip,
    pxebootIp: ip,
    bmc,
    administrative: fc.constantFrom("locked", "unlocked"),
  },
  { requiredKeys: ["hostname", "personality"] },
);

/** A JSON value nested `depth` deep (arrays and objects mixed), as text, built without recursion. */
function nested(depth: number, kinds: boolean[]): string {
  let open = "";
  let close = "";
  for (let i = 0; i < depth; i++) {
    const obj = kinds[i % kinds.length];
    open += obj ? '{"k":' : "[";
    close = (obj ? "}" : "]") + close;
  }
  return `${open}1${close}`;
}

test("valid host bodies pass the decoder and the schema unchanged, and the host they make is a valid stored record", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(newHost, (body) => {
        const d = decodeRequestBody(Buffer.from(JSON.stringify(body)));
        if (!d.ok) return false;
        const r = newHostSchema.safeParse(d.value);
        if (!r.success || JSON.stringify(r.data) !== JSON.stringify(body)) return false;
        // What the API accepts is exactly what the store may hold (the one schema).
        const stored = checkHostRecord(JSON.parse(JSON.stringify(newHostRecord(body as never))));
        return stored.ok;
      }),
      { numRuns: 500 },
    ),
  );
});

test("hostile nesting anywhere in a body is refused by the decoder before parsing, never a RangeError", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.integer({ min: MAX_BODY_DEPTH, max: 20_000 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        fc.constantFrom("bmc", "mtceInfo", "hostname", "x"),
        (depth, kinds, field) => {
          // `depth` levels inside the body object: the body itself is one more.
          const text = `{"hostname":"worker-0","personality":"worker","${field}":${nested(depth, kinds)}}`;
          const d = decodeRequestBody(text);
          if (Buffer.byteLength(text) > MAX_BODY) return !d.ok && d.code === "TOO_LARGE";
          return !d.ok && d.code === "BAD_JSON" && /nested deeper than 8/.test(d.reason);
        },
      ),
      { numRuns: 300 },
    ),
  );
  // The field case of the issue: a 10 KB body whose bmc is an array nested 5,000 deep.
  const d = decodeRequestBody(`{"hostname":"worker-0","personality":"worker","bmc":${nested(5000, [false])}}`);
  t.like(d, { ok: false, code: "BAD_JSON" });
});

test("nesting up to the limit decodes; the schema then refuses what is not a host, naming the field", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_BODY_DEPTH - 1 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }), (depth, kinds) => {
        const d = decodeRequestBody(`{"hostname":"worker-0","personality":"worker","bmc":${nested(depth, kinds)}}`);
        if (!d.ok) return false;
        const why = validateNewHost(d.value);
        return typeof why === "string" && why.startsWith("bmc");
      }),
    ),
  );
});

test("a body over 64 KiB is TOO_LARGE, counted in bytes (multi-byte characters included), whatever it holds", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.constantFrom("a", "é", "€", "😀"), fc.integer({ min: 1, max: 4096 }), (ch, extra) => {
        const unit = Buffer.byteLength(ch);
        const count = Math.ceil((MAX_BODY + extra) / unit);
        const text = `{"hostname":"${ch.repeat(count)}"}`;
        const d = decodeRequestBody(Buffer.from(text));
        return !d.ok && d.code === "TOO_LARGE";
      }),
      { numRuns: 50 },
    ),
  );
  // The limit is in bytes: 32,764 two-byte characters (65,536 bytes) pass, one more ASCII byte does not.
  const n = (MAX_BODY - 8) / 2;
  t.true(decodeRequestBody(`{"a":"${"é".repeat(n)}"}`).ok);
  t.like(decodeRequestBody(`{"a":"${"é".repeat(n)}x"}`), { ok: false, code: "TOO_LARGE" });
});

test("invalid UTF-8 anywhere in a body is refused (never replaced with U+FFFD and accepted)", (t) => {
  const bad = [[0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xe2, 0x82], [0xff]];
  t.notThrows(() =>
    fc.assert(
      fc.property(newHost, fc.constantFrom(...bad), fc.nat(), (body, seq, at) => {
        const text = Buffer.from(JSON.stringify(body));
        // Inside the hostname's string, so the rest stays JSON.
        const start = text.indexOf('"hostname":"') + 12;
        const i = start + (at % 3);
        const bytes = Buffer.concat([text.subarray(0, i), Buffer.from(seq), text.subarray(i)]);
        const d = decodeRequestBody(bytes);
        return !d.ok && d.code === "BAD_JSON" && /UTF-8/.test(d.reason);
      }),
      { numRuns: 300 },
    ),
  );
});

test("control characters and lone surrogates in text fields are refused naming the field; unknown keys too", (t) => {
  const bad = fc.oneof(
    fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
    fc.constant("\u007f"),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(newHost, bad, fc.string({ maxLength: 10 }), (body, b, pad) => {
        const h = { ...body, bmc: { type: "ipmi", address: "10.0.0.1", username: `${pad}${b}x` } };
        // Through JSON text, as a client would send it (a lone surrogate travels as a \\u escape).
        const d = decodeRequestBody(JSON.stringify(h));
        if (!d.ok) return false;
        const why = validateNewHost(d.value);
        return typeof why === "string" && why.startsWith("bmc.username");
      }),
      { numRuns: 500 },
    ),
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(
        newHost,
        fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !(k in newHostSchema.shape) && k !== "__proto__"),
        fc.jsonValue(),
        (body, key, v) => {
          const why = validateNewHost({ ...body, [key]: v });
          return typeof why === "string" && why.length <= 200;
        },
      ),
      { numRuns: 300 },
    ),
  );
});

test("PATCH bodies: decodePatch never throws; an action is one short name, a modify only the modifiable fields", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 64 }), fc.jsonValue({ maxDepth: 4 })), (body) => {
        const r = decodePatch(body);
        if (r.kind === "action") return /^[a-z-]{1,32}$/.test(r.action) && Object.keys(body).length === 1;
        if (r.kind === "modify")
          return Object.keys(body).every((k) => ["mgmtIp", "mgmtMac", "clusterHostIp", "pxebootIp", "bmc", "personality", "subfunctions"].includes(k));
        return typeof r.reason === "string" && r.reason.length > 0 && r.reason.length <= 200;
      }),
      { numRuns: 2000 },
    ),
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.record({ mgmtIp: ip, mgmtMac: mac, bmc }, { requiredKeys: [] }), (fields) => decodePatch(fields).kind === "modify"),
      { numRuns: 300 },
    ),
  );
  t.deepEqual(decodePatch({ action: "lock" }), { kind: "action", action: "lock" });
  t.like(decodePatch({ action: "lock", administrative: "unlocked" }), { kind: "invalid" });
  t.like(decodePatch({ administrative: "unlocked" }), { kind: "invalid" });
});

test("the decoder never throws on any bytes, and answers a JSON object or a code", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }),
          fc.json().map((s) => Buffer.from(s)),
        ),
        (bytes) => {
          const d = decodeRequestBody(bytes);
          return d.ok ? typeof d.value === "object" && d.value !== null && !Array.isArray(d.value) : ["BAD_JSON", "TOO_LARGE"].includes(d.code);
        },
      ),
      { numRuns: 3000 },
    ),
  );
});
