import test from "ava";
import fc from "fast-check";
import { mtcAliveMessage, mtcJsonObject, parseMtcAlive } from "../src/wire/mtc-alive.js";
import { checkCommandMac } from "../src/wire/mtc-mac.js";
import { decodeMtcMessage, encodeMtcMessage, MTC_MSG_SIZE, type MtcMessage, mtcJsonPayload, Signature } from "../src/wire/mtc-message.js";

const printable = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789:-_. {}\"',ABCXYZ"), minLength: min, maxLength: max });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });

/** Any message the encoder accepts whose header fields the decoder can tell apart. */
const arbMessage: fc.Arbitrary<MtcMessage> = fc
  .record({
    signature: fc.oneof(fc.constantFrom(...Object.values(Signature)), printable(17, 17)),
    who: fc.oneof(
      fc.constant({}),
      printable(1, 46).map((mac) => ({ mac })),
      printable(1, 45).map((hostname) => ({ hostname })),
    ),
    ver: u16,
    rev: u16,
    res: u32,
    cmd: u32,
    num: u32,
    parm: fc.tuple(u32, u32, u32, u32, u32),
    buf: fc.string({ maxLength: 300 }).filter((s) => !s.includes("\0") && Buffer.byteLength(s) <= 959),
  })
  .map(({ who, ...m }) => ({ ...m, ...who }) as MtcMessage);

test("encode -> decode is the identity (truncated and full sends)", (t) => {
  fc.assert(
    fc.property(arbMessage, (m) => {
      for (const full of [false, true]) {
        const bytes = encodeMtcMessage(m, { full });
        if (full && bytes.length !== MTC_MSG_SIZE) return false;
        const d = decodeMtcMessage(bytes);
        if (!d.ok) return false;
        t.deepEqual(d.msg, m);
      }
      return true;
    }),
    { numRuns: 2000 },
  );
});

test("random bytes never throw in decode, payload parsing or the MAC check", (t) => {
  const outcome = { decoded: 0, rejected: 0 };
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1300 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
      (bytes) => {
        const d = decodeMtcMessage(Buffer.from(bytes));
        if (!d.ok) {
          outcome.rejected++;
          return typeof d.reason === "string" && d.reason.length > 0;
        }
        outcome.decoded++;
        mtcJsonPayload(d.msg);
        mtcJsonObject(d.msg);
        parseMtcAlive(d.msg);
        checkCommandMac(d.msg, "52:54:00:00:00:01");
        return true;
      },
    ),
    { numRuns: 20_000 },
  );
  // Both paths were exercised: short/oversized datagrams are rejected with a reason, the rest decode.
  t.true(outcome.rejected > 1000 && outcome.decoded > 1000, JSON.stringify(outcome));
  // Bytes that start like a real header but carry garbage after it, read as an mtcAlive.
  let aliveRejected = 0;
  fc.assert(
    fc.property(fc.constantFrom(...Object.values(Signature)), fc.uint8Array({ minLength: 83, maxLength: 1043 }), (sig, rest) => {
      const d = decodeMtcMessage(Buffer.concat([Buffer.from(sig, "latin1"), Buffer.from(rest)]));
      if (!d.ok) return false;
      if (!parseMtcAlive({ ...d.msg, cmd: 5 }).ok) aliveRejected++;
      return true;
    }),
    { numRuns: 5_000 },
  );
  t.is(aliveRejected, 5_000, "garbage never passes as an mtcAlive");
});

test("an mtcAlive survives the wire: uptime, health, flags, sequence and its JSON", (t) => {
  const arbAlive = fc.record({
    uptime: u32,
    health: fc.constantFrom(0, 1, 2),
    flags: u32,
    sequence: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    payload: fc.record(
      {
        hostname: printable(1, 63),
        personality: fc.constantFrom("controller", "worker", "storage", "controller,worker"),
        mgmt_ip: fc.ipV4(),
        cluster_host_ip: fc.ipV4(),
        pxeboot_ip: fc.ipV4(),
        mgmt_mac: fc.constantFrom("52:54:00:aa:bb:cc", "00:11:22:33:44:55"),
        interface: fc.constantFrom("Mgmnt" as const, "Clstr" as const, "Pxeboot" as const),
        sequence: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      },
      { requiredKeys: ["hostname", "personality", "interface", "sequence"] },
    ),
  });
  fc.assert(
    fc.property(arbAlive, (alive) => {
      const d = decodeMtcMessage(encodeMtcMessage(mtcAliveMessage(alive)));
      if (!d.ok) return false;
      const back = parseMtcAlive(d.msg);
      if (!back.ok) return false;
      t.deepEqual(back.alive, alive);
      return true;
    }),
    { numRuns: 1000 },
  );
});

test("the MAC check: only this node's MAC (any case) passes a command", (t) => {
  const base = { signature: Signature.cmdReq, rev: 0, res: 0, cmd: 2, num: 0, parm: [0, 0, 0, 0, 0] as MtcMessage["parm"], buf: "" };
  t.true(checkCommandMac({ ...base, ver: 1, mac: "52:54:00:AA:BB:CC" }, "52:54:00:aa:bb:cc").ok);
  t.false(checkCommandMac({ ...base, ver: 1, mac: "52:54:00:aa:bb:cd" }, "52:54:00:aa:bb:cc").ok);
  t.false(checkCommandMac({ ...base, ver: 1, mac: "52:54:00:aa:bb:c" }, "52:54:00:aa:bb:cc").ok, "a prefix is not a match");
  t.false(checkCommandMac({ ...base, ver: 1 }, "52:54:00:aa:bb:cc").ok);
  t.false(checkCommandMac({ ...base, ver: 0 }, "52:54:00:aa:bb:cc").ok, "ver 0 commands need the MAC too (quirk fixed)");
  // Through the codec: the MAC sits at hdr[17].
  const bytes = encodeMtcMessage({ ...base, ver: 1, mac: "52:54:00:aa:bb:cc" });
  t.is(bytes.subarray(17, 34).toString("latin1"), "52:54:00:aa:bb:cc");
  const d = decodeMtcMessage(bytes);
  t.true(d.ok && checkCommandMac(d.msg, "52:54:00:aa:bb:cc").ok);
});
