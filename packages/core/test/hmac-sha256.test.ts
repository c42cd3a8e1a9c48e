import { createHmac } from "node:crypto";
import test from "ava";
import fc from "fast-check";
import { AUTH_TRAILER_BYTES, authKey, sealDatagram } from "../src/wire/authenticated.js";
import { HmacSha256 } from "../src/wire/hmac-sha256.js";

const node = (key: Uint8Array, data: Uint8Array): Buffer => createHmac("sha256", key).update(data).digest();

test("HmacSha256 equals node:crypto createHmac('sha256') for any key and message length", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.uint8Array({ minLength: 0, maxLength: 700 }), (key, data) => {
        return new HmacSha256(key).digest(data).equals(node(key, data));
      }),
      { numRuns: 1500 },
    ),
  );
});

test("HmacSha256 at every padding boundary (lengths 0..300) and RFC 4231 test case 2", (t) => {
  const key = Buffer.alloc(32, 0x5a);
  const mac = new HmacSha256(key);
  for (let n = 0; n <= 300; n++) {
    const data = Buffer.alloc(n, n & 0xff);
    if (!mac.digest(data).equals(node(key, data))) t.fail(`length ${n}`);
  }
  // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
  t.is(
    new HmacSha256(Buffer.from("Jefe")).digest(Buffer.from("what do ya want for nothing?")).toString("hex"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
});

test("verify: true for the MAC, false for any flipped bit of MAC or data, false (no throw) when out of bounds", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (data, at, bit) => {
        const mac = new HmacSha256(Buffer.alloc(32, 7));
        const buf = Buffer.alloc(data.length + 32);
        buf.set(data, 0);
        mac.digestInto(buf, data.length, buf, data.length);
        if (!mac.verify(buf, data.length, data.length)) return false;
        const i = at % buf.length;
        buf[i] = (buf[i] as number) ^ (1 << bit);
        return !mac.verify(buf, data.length, data.length) && !mac.verify(buf, data.length, buf.length - 31) && !mac.verify(buf, buf.length + 1, 0);
      }),
      { numRuns: 1000 },
    ),
  );
});

test("a sealed datagram's trailer MAC is node:crypto's HMAC-SHA256 over everything before it", (t) => {
  const secret = Buffer.alloc(48, 0x3c);
  const key = authKey(secret);
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (plain) => {
        const sealed = sealDatagram(plain, key, Buffer.alloc(8, 9), 1, 2);
        const macAt = sealed.length - 32;
        return sealed.length === plain.length + AUTH_TRAILER_BYTES && sealed.subarray(macAt).equals(node(secret, sealed.subarray(0, macAt)));
      }),
    ),
  );
});
