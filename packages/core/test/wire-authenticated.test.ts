import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import fc from "fast-check";
import { loadClusterKeys } from "../src/transport/cluster-key.js";
import { KeyedDatagrams, PLAIN_DATAGRAMS } from "../src/transport/datagram-auth.js";
import { ReplayWindow } from "../src/transport/replay-window.js";
import { AUTH_TRAILER_BYTES, type AuthKey, authKey, openDatagram, sealDatagram } from "../src/wire/authenticated.js";
import { captureLogger } from "./helpers/capture-logger.js";

const keyA = authKey(Buffer.alloc(32, 0xa1));
const keyB = authKey(Buffer.alloc(32, 0xb2));
const only =
  (...keys: AuthKey[]) =>
  (id: number) =>
    keys.find((k) => k.idNumber === id);
const arbPlain = fc.uint8Array({ minLength: 0, maxLength: 1200 }).map((a) => Buffer.from(a));
const arbSender = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((a) => Buffer.from(a));
const arbSeq = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const arbTime = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

test("seal -> open round-trips payload and every trailer field", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(arbPlain, arbSender, arbSeq, arbTime, (plain, sender, seq, time) => {
        const sealed = sealDatagram(plain, keyA, sender, seq, time);
        if (sealed.length !== plain.length + AUTH_TRAILER_BYTES) return false;
        if (!sealed.subarray(0, plain.length).equals(plain)) return false;
        const r = openDatagram(sealed, only(keyA));
        return (
          r.ok &&
          r.plain.equals(plain) &&
          r.fields.senderHi === sender.readUInt32BE(0) &&
          r.fields.senderLo === sender.readUInt32BE(4) &&
          r.fields.sequence === seq &&
          r.fields.timeMs === time &&
          r.fields.keyId === keyA.idNumber
        );
      }),
    ),
  );
});

test("any single bit flip of an authenticated datagram is rejected", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(arbPlain, arbSender, arbSeq, arbTime, fc.nat(), fc.integer({ min: 0, max: 7 }), (plain, sender, seq, time, at, bit) => {
        const sealed = sealDatagram(plain, keyA, sender, seq, time);
        const i = at % sealed.length;
        sealed[i] = (sealed[i] as number) ^ (1 << bit);
        return !openDatagram(sealed, only(keyA, keyB)).ok;
      }),
      { numRuns: 2000 },
    ),
  );
});

test("truncated, extended or random datagrams never open, never throw", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(arbPlain, fc.uint8Array({ maxLength: 200 }), fc.nat(), (plain, junk, cut) => {
        const sealed = sealDatagram(plain, keyA, Buffer.alloc(8, 1), 1, 1);
        const truncated = sealed.subarray(0, cut % sealed.length);
        const extended = Buffer.concat([sealed, Buffer.from(junk.length ? junk : [0])]);
        return !openDatagram(truncated, only(keyA)).ok && !openDatagram(extended, only(keyA)).ok && !openDatagram(Buffer.from(junk), only(keyA)).ok;
      }),
    ),
  );
});

test("a datagram signed with another key is refused; a plain one is 'unsigned'", (t) => {
  const sealed = sealDatagram(Buffer.from("hello"), keyB, Buffer.alloc(8), 1, 1);
  t.deepEqual(openDatagram(sealed, only(keyA)), { ok: false, reason: "unknown-key" });
  // A key with B's id but A's secret: the MAC decides.
  t.deepEqual(
    openDatagram(sealed, () => keyA),
    { ok: false, reason: "bad-mac" },
  );
  t.deepEqual(openDatagram(Buffer.from("cgts mtc cmd req:"), only(keyA)), { ok: false, reason: "unsigned" });
});

test("replay window: each (sender, sequence) once, reordering inside the window passes, stale and future refused", (t) => {
  const w = new ReplayWindow({ windowMs: 1000, sequenceWindow: 64 });
  t.is(w.check("s", 5, 100, 100), "fresh");
  t.is(w.check("s", 5, 100, 100), "replay");
  t.is(w.check("s", 3, 100, 100), "fresh");
  t.is(w.check("s", 3, 100, 100), "replay");
  t.is(w.check("s", 200, 100, 100), "fresh");
  t.is(w.check("s", 100, 100, 100), "replay", "below the sequence window");
  t.is(w.check("s", 199, 100, 100), "fresh");
  t.is(w.check("t", 5, 100, 100), "fresh", "another sender has its own sequence");
  t.is(w.check("s", 201, 100, 1101), "stale");
  t.is(w.check("s", 201, 2101, 1100), "future");
});

test("replay window property: a sequence is accepted at most once, whatever the order", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 400 }), (seqs) => {
        const w = new ReplayWindow({ windowMs: 1000 });
        const accepted = new Set<number>();
        for (const s of seqs) {
          if (w.check("x", s, 0, 0) === "fresh") {
            if (accepted.has(s)) return false;
            accepted.add(s);
          }
        }
        return true;
      }),
    ),
  );
});

test("replay window memory is bounded: senders past maxSenders are refused until old ones are stale", (t) => {
  const w = new ReplayWindow({ windowMs: 1000, maxSenders: 3 });
  for (const s of ["a", "b", "c"]) t.is(w.check(s, 1, 0, 0), "fresh");
  t.is(w.check("d", 1, 0, 0), "too-many-senders");
  t.is(w.check("d", 1, 1500, 1500), "fresh", "a, b and c are stale by now and forgotten");
  t.is(w.size, 1);
});

test("KeyedDatagrams: seal/open between two nodes, replay and plain dropped with one rate-limited line each", (t) => {
  const keys = { signing: keyA, accepted: [keyA] };
  const { logger, lines } = captureLogger();
  const a = new KeyedDatagrams({ keys, logger, windowMs: 60_000 });
  const b = new KeyedDatagrams({ keys, logger, windowMs: 60_000 });
  const wire = a.seal(Buffer.from("lock"));
  t.deepEqual(b.open(wire, "127.0.0.1", "test"), Buffer.from("lock"));
  for (let i = 0; i < 50; i++) t.is(b.open(wire, "127.0.0.1", "test"), undefined);
  for (let i = 0; i < 50; i++) t.is(b.open(Buffer.from("lock"), "127.0.0.77", "test"), undefined);
  t.is(b.dropped.replay, 50);
  t.is(b.dropped.unsigned, 50);
  const drops = lines.filter((l) => l.msg === "dropped an unauthenticated datagram");
  t.is(drops.length, 2, "one line per reason and source");
  t.false(JSON.stringify(lines).includes(keyA.id.toString("hex").repeat(8)));
});

test("KeyedDatagrams: rotation, a node holding both keys takes either; a node with only the new key refuses the old", (t) => {
  const { logger } = captureLogger();
  const old = new KeyedDatagrams({ keys: { signing: keyA, accepted: [keyA] }, logger, windowMs: 60_000 });
  const both = new KeyedDatagrams({ keys: { signing: keyB, accepted: [keyB, keyA] }, logger, windowMs: 60_000 });
  const next = new KeyedDatagrams({ keys: { signing: keyB, accepted: [keyB] }, logger, windowMs: 60_000 });
  t.truthy(both.open(old.seal(Buffer.from("x")), "h", "t"));
  t.truthy(both.open(next.seal(Buffer.from("y")), "h", "t"));
  t.truthy(old.open(Buffer.from(both.seal(Buffer.from("z"))), "h", "t") === undefined);
  t.is(next.open(old.seal(Buffer.from("w")), "h", "t"), undefined);
  t.is(next.dropped["unknown-key"], 1);
});

test("PLAIN_DATAGRAMS is the identity (wire-compatible with the C daemons)", (t) => {
  const b = Buffer.from("cgts mtc cmd req:");
  t.is(PLAIN_DATAGRAMS.seal(b), b);
  t.is(PLAIN_DATAGRAMS.open(b, "x", "y"), b);
});

test("cluster key file: 0600 with one or two hex keys loads; group/world-readable, short, non-hex, empty, three keys refused", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-key-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string, mode: number) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  };
  const k1 = randomBytes(32).toString("hex");
  const k2 = randomBytes(32).toString("hex");
  t.is(loadClusterKeys(file("one", `${k1}\n`, 0o600)).accepted.length, 1);
  const two = loadClusterKeys(file("two", `# current\n${k1}\n\n${k2}\n`, 0o400));
  t.is(two.accepted.length, 2);
  t.deepEqual(two.signing.id, authKey(Buffer.from(k1, "hex")).id);
  for (const mode of [0o644, 0o640, 0o604, 0o660]) {
    const err = t.throws(() => loadClusterKeys(file(`m${mode}`, k1, mode)));
    t.is((err as { code?: string }).code, "CLUSTER_KEY_UNSAFE");
    t.false(err?.message.includes(k1) ?? true);
    t.regex(err?.message ?? "", /must be 0600/);
  }
  for (const [name, text] of [
    ["short", "abcd"],
    ["nothex", "z".repeat(64)],
    ["empty", "\n\n"],
    ["three", `${k1}\n${k2}\n${k1}\n`],
  ] as const) {
    const err = t.throws(() => loadClusterKeys(file(name, text, 0o600)));
    t.is((err as { code?: string }).code, "CLUSTER_KEY_INVALID", name);
  }
  t.is((t.throws(() => loadClusterKeys(join(dir, "absent"))) as { code?: string }).code, "CLUSTER_KEY_MISSING");
});
