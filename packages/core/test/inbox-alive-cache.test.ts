import test from "ava";
import fc from "fast-check";
import { AlivePayloadCache } from "../src/agent/inbox-alive-cache.js";
import { mtcAliveMessage, parseMtcAlive } from "../src/wire/mtc-alive.js";
import { decodeMtcMessage, encodeMtcMessage, mtcMessage, Signature } from "../src/wire/mtc-message.js";

const wire = (m: ReturnType<typeof mtcAliveMessage>) => {
  const d = decodeMtcMessage(encodeMtcMessage(m));
  if (!d.ok) throw new Error(d.reason);
  return d.msg;
};

test("a cached parse equals a full parse, whatever changes between two mtcAlives", (t) => {
  const host = fc.record({
    hostname: fc.constantFrom("worker-1", "worker-2", "controller-0"),
    personality: fc.constantFrom("worker", "controller,worker"),
    interface: fc.constantFrom("Mgmnt" as const, "Clstr" as const, "Pxeboot" as const),
    mgmt_ip: fc.constantFrom("10.0.0.1", "10.0.0.2"),
  });
  const alive = fc.record({ uptime: fc.nat(), health: fc.constantFrom(0, 1, 2), flags: fc.nat(), sequence: fc.nat(), payload: host });
  let hits = 0;
  fc.assert(
    fc.property(fc.array(alive, { minLength: 1, maxLength: 30 }), (alives) => {
      const cache = new AlivePayloadCache();
      for (const a of alives) {
        const msg = wire(mtcAliveMessage({ ...a, payload: { ...a.payload, sequence: a.sequence } }));
        const cached = cache.parse(msg);
        const full = parseMtcAlive(msg);
        t.deepEqual(cached, full);
        hits++;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.true(hits > 300);
});

test("garbage and non-mtcAlive messages go through the full parse and are rejected the same way", (t) => {
  const cache = new AlivePayloadCache();
  const good = wire(
    mtcAliveMessage({ uptime: 1, health: 1, flags: 0, sequence: 1, payload: { hostname: "w", personality: "worker", interface: "Mgmnt", sequence: 1 } }),
  );
  t.true(cache.parse(good).ok);
  const bad = { ...good, buf: good.buf.replace('"hostname":"w"', '"hostname":5') };
  t.deepEqual(cache.parse(bad), parseMtcAlive(bad));
  t.false(cache.parse(bad).ok);
  const notAlive = mtcMessage({ signature: Signature.workerMsg, cmd: 7, buf: good.buf });
  t.false(cache.parse(notAlive).ok);
});
