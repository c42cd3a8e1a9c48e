import test from "ava";
import fc from "fast-check";
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from "../src/channel/framing.js";
import { guestMessage, validateGuestMessage } from "../src/channel/messages.js";
import { decodeGuestDatagram, encodeGuestDatagram } from "../src/udp/guest-datagram.js";

/** Split a buffer at the given cut points, as a stream socket may. */
function chunks(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

const smallObject = fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.boolean(), fc.constant(null)), {
  maxKeys: 8,
});

test("encode then decode is the identity, however the stream is cut", (t) => {
  fc.assert(
    fc.property(fc.array(smallObject, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (objects, cuts) => {
      const wire = Buffer.from(objects.map((o) => encodeFrame(o)).join(""));
      const decoder = new FrameDecoder();
      const got = chunks(wire, cuts).flatMap((c) => decoder.push(c));
      t.deepEqual(
        got.map((r) => (r.ok ? r.value : r.reason)),
        objects.map((o) => JSON.parse(JSON.stringify(o))),
      );
      return decoder.buffered === 0;
    }),
  );
});

test("random bytes never throw and never buffer more than one frame's limit", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }), (parts) => {
        const decoder = new FrameDecoder();
        for (const p of parts) {
          for (const r of decoder.push(Buffer.from(p))) if (r.ok) validateGuestMessage(r.value);
          if (decoder.buffered > MAX_FRAME_BYTES) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    ),
  );
});

test("random JSON values through the validator never throw; each gives a message or a reason", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(
            "version",
            "revision",
            "msg_type",
            "sequence",
            "invocation_id",
            "heartbeat_response",
            "heartbeat_health",
            "corrective_action",
            "log_msg",
            "timeout_ms",
            "event_type",
            "notification_type",
            "vote_result",
            "name",
          ),
          fc.jsonValue(),
        ),
        (obj) => {
          const r = validateGuestMessage(obj as Record<string, unknown>);
          return r.ok ? typeof r.message.msg_type === "string" : r.reason.length > 0;
        },
      ),
      { numRuns: 2000 },
    ),
  );
});

test("an oversized frame is rejected once and the next frame still decodes", (t) => {
  const decoder = new FrameDecoder();
  const big = `\n{"log_msg":"${"a".repeat(5000)}"}\n`;
  const out = [
    ...decoder.push(Buffer.from(big.slice(0, 700))),
    ...decoder.push(Buffer.from(big.slice(700))),
    ...decoder.push(Buffer.from(encodeFrame({ ok: 1 }))),
  ];
  t.deepEqual(out, [
    { ok: false, reason: `message too large: over ${MAX_FRAME_BYTES} bytes` },
    { ok: true, value: { ok: 1 } },
  ]);
});

test("a challenge frame is byte-for-byte the original's", (t) => {
  const frame = encodeFrame(guestMessage({ msg_type: "challenge", heartbeat_challenge: 1804289383 }, 42));
  t.is(frame, '\n{"version":3,"revision":1,"msg_type":"challenge","sequence":42,"heartbeat_challenge":1804289383}\n');
});

test("guest datagrams: encode then decode is the identity; 1060 bytes; random bytes never throw", (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.dictionary(fc.string({ maxLength: 16 }), fc.string({ maxLength: 32 }), { maxKeys: 10 }),
      (cmd, payload) => {
        const data = encodeGuestDatagram(cmd, payload);
        const back = decodeGuestDatagram(data);
        return data.length === 1060 && back.ok && back.cmd === cmd && JSON.stringify(back.payload) === JSON.stringify(payload);
      },
    ),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1200 }), (bytes) => {
      const r = decodeGuestDatagram(Buffer.from(bytes));
      return r.ok || r.reason.length > 0;
    }),
  );
  t.throws(() => encodeGuestDatagram(1, { big: "x".repeat(1000) }), { instanceOf: RangeError });
});
