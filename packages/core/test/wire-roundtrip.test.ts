/** `metal wire`: what decode prints, encode takes back (property-tested over any datagram decode accepts). */
import test from "ava";
import fc from "fast-check";
import { describeDatagram, encodeDescription } from "../src/cli/commands/wire.js";
import { mtcAliveMessage } from "../src/wire/mtc-alive.js";
import { MtcFlag } from "../src/wire/mtc-flags.js";
import { encodeMtcMessage, Signature } from "../src/wire/mtc-message.js";

/** A header string: latin1, no NUL (decode reads the signature up to its NUL). */
const latin1NoNul = (s: string) => [...s].every((c) => c.charCodeAt(0) >= 1 && c.charCodeAt(0) <= 0xff);

test("encode(decode(hex)) is the same datagram for a built message; decode's own keys are accepted", (t) => {
  const alive = encodeMtcMessage(
    mtcAliveMessage({
      uptime: 300,
      health: 1,
      flags: MtcFlag.I_AM_CONFIGURED,
      sequence: 9,
      payload: { hostname: "worker-3", personality: "worker", interface: "Mgmnt", sequence: 9 },
    }),
  ).toString("hex");
  const described = describeDatagram(alive);
  t.truthy(described.mtcAlive);
  t.truthy(described.json);
  t.is(encodeDescription(JSON.stringify(described), false), alive);
});

test("property: for any datagram decode accepts, decode → encode → decode is a fixpoint, and byte-exact for clean ones", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom(...Object.values(Signature)),
          fc.string({ minLength: 17, maxLength: 17 }).filter(latin1NoNul),
          fc.string({ minLength: 1, maxLength: 17 }).filter(latin1NoNul),
        ),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 5, maxLength: 5 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.oneof(
          fc.constant(""),
          fc.string({ maxLength: 200 }).filter((s) => !s.includes("\0")),
        ),
        fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 47 }), fc.uint8Array({ minLength: 47, maxLength: 47, min: 1 })),
        (signature, cmd, parm, ver, buf, noise) => {
          const clean = encodeMtcMessage({ signature, cmd, ver, rev: 0, res: 0, num: 5, parm: parm as [number, number, number, number, number], buf }).toString(
            "hex",
          );
          if (encodeDescription(JSON.stringify(describeDatagram(clean)), false) !== clean) return false;
          // Arbitrary header noise: the JSON view is a fixpoint (bytes after a NUL are not part of any field).
          const raw = Buffer.from(clean, "hex");
          Buffer.from(noise).copy(raw, 17, 0, Math.min(noise.length, 47));
          const first = describeDatagram(raw.toString("hex"));
          const again = describeDatagram(encodeDescription(JSON.stringify(first), false));
          return JSON.stringify(again) === JSON.stringify(first);
        },
      ),
      { numRuns: 400 },
    ),
  );
});
