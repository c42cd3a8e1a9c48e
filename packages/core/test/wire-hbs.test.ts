import test from "ava";
import fc from "fast-check";
import {
  type ClusterHistory,
  type ClusterVault,
  decodeClusterVault,
  emptyHistory,
  emptyVault,
  encodeClusterVault,
  historyInOrder,
  VAULT_HISTORY_BYTES,
  VAULT_HISTORY_ENTRIES,
  VAULT_MAX_BYTES,
  vaultBytes,
} from "../src/wire/cluster-vault.js";
import { controllerOfFlags, decodePulse, encodePulse, HBS_FIELDS_END, HBS_PULSE_MAX, type HbsPulse, PulseFlag, withController } from "../src/wire/hbs-pulse.js";

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const historyArb: fc.Arbitrary<ClusterHistory> = fc.record({
  controller: fc.integer({ min: 0, max: 15 }),
  network: fc.integer({ min: 0, max: 15 }),
  reserved: fc.integer({ min: 0, max: 63 }),
  smHeartbeatFail: fc.boolean(),
  storage0Responding: fc.boolean(),
  entries: u16,
  entriesMax: u16,
  oldestEntryIndex: u16,
  entry: fc.array(fc.record({ hostsEnabled: u16, hostsResponding: u16 }), { minLength: VAULT_HISTORY_ENTRIES, maxLength: VAULT_HISTORY_ENTRIES }),
});

const vaultArb: fc.Arbitrary<ClusterVault> = fc.record({
  version: fc.integer({ min: 0, max: 255 }),
  revision: fc.integer({ min: 0, max: 255 }),
  magic: fc.constant(0x5aa5),
  reqid: u16,
  periodMs: u16,
  storage0Enabled: fc.boolean(),
  histories: fc.array(historyArb, { maxLength: 4 }),
});

// Latin-1 hostnames without NUL (the field is NUL-padded), at most 32 bytes.
const hostArb = fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: 32 }).map((codes) => String.fromCharCode(...codes));

const pulseArb: fc.Arbitrary<HbsPulse> = fc
  .record({
    kind: fc.constantFrom("req" as const, "rsp" as const),
    host: hostArb,
    seq: u32,
    rri: u32,
    flags: u32,
    version: fc.integer({ min: 1, max: 3 }),
    cluster: vaultArb,
  })
  .map((p) => p as HbsPulse);

test("cluster vault: encode -> decode is the identity, and the size is 12 + 88 per history", (t) => {
  fc.assert(
    fc.property(vaultArb, (v) => {
      const bytes = encodeClusterVault(v);
      if (bytes.length !== vaultBytes(v.histories.length)) return false;
      const d = decodeClusterVault(bytes);
      return d.ok && JSON.stringify(d.vault) === JSON.stringify(v);
    }),
    { numRuns: 300 },
  );
  t.is(VAULT_HISTORY_BYTES, 88);
  t.is(VAULT_MAX_BYTES, 364);
});

test("pulse: encode -> decode is the identity; at most 427 bytes", (t) => {
  fc.assert(
    fc.property(pulseArb, (p) => {
      const bytes = encodePulse(p);
      if (bytes.length > HBS_PULSE_MAX) return false;
      const d = decodePulse(bytes);
      return d.ok && JSON.stringify(d.pulse) === JSON.stringify(p);
    }),
    { numRuns: 300 },
  );
  t.is(HBS_PULSE_MAX, 427);
});

test("random bytes never throw from either decoder", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (raw) => {
        const b = Buffer.from(raw);
        decodePulse(b);
        decodeClusterVault(b);
        // With a valid pulse header in front, the vault path is exercised too.
        decodePulse(Buffer.concat([Buffer.from("cgts pulse rsp:"), b]));
        return true;
      }),
      { numRuns: 2000 },
    ),
  );
});

test("pulse layout is byte-exact to hbs_message_type", (t) => {
  const v = emptyVault(100);
  const h = emptyHistory(1, 1);
  h.smHeartbeatFail = true;
  h.storage0Responding = true;
  h.entries = 3;
  h.oldestEntryIndex = 3;
  h.entry[0] = { hostsEnabled: 6, hostsResponding: 5 };
  v.histories.push(h);
  const b = encodePulse({
    kind: "req",
    host: "worker-1",
    seq: 0x01020304,
    rri: 7,
    flags: withController(PulseFlag.PMOND | PulseFlag.CLSTR, 1),
    version: 1,
    cluster: v,
  });
  t.is(b.toString("latin1", 0, 15), "cgts pulse req:");
  t.is(b.toString("latin1", 15, 23), "worker-1");
  t.is(b[23], 0);
  t.is(b.readUInt32LE(47), 0x01020304);
  t.is(b.readUInt32LE(51), 7);
  t.is(b.readUInt32LE(55), 0x103);
  t.is(controllerOfFlags(b.readUInt32LE(55)), 1);
  t.is(b.readUInt32LE(59), 1);
  // The vault: version, revision, magic, reqid, period, bytes, storage0_enabled, histories.
  t.is(b[63], 1);
  t.is(b[64], 0);
  t.is(b.readUInt16LE(65), 0x5aa5);
  t.is(b.readUInt16LE(69), 100);
  t.is(b.readUInt16LE(71), 100);
  t.is(b[74], 1);
  // History bits: controller:4 network:4 reserved:6 sm_heartbeat_fail:1 storage0_responding:1, LSB first.
  t.is(b.readUInt16LE(75), 0x1 | (0x1 << 4) | (1 << 14) | (1 << 15));
  t.is(b.readUInt16LE(77), 3);
  t.is(b.readUInt16LE(79), 20);
  t.is(b.readUInt16LE(81), 3);
  t.is(b.readUInt16LE(83), 6);
  t.is(b.readUInt16LE(85), 5);
  t.is(b.length, HBS_FIELDS_END + 12 + 88);
});

test("a wrong vault byte count, a bad magic or a truncated vault makes the pulse invalid", (t) => {
  const v = emptyVault(100);
  v.histories.push(emptyHistory(0, 0));
  const good = encodePulse({ kind: "rsp", host: "worker-1", seq: 1, rri: 0, flags: 0, version: 1, cluster: v });
  t.true(decodePulse(good).ok);
  const wrongBytes = Buffer.from(good);
  wrongBytes.writeUInt16LE(12 + 88 * 2, HBS_FIELDS_END + 8);
  t.regex((decodePulse(wrongBytes) as { reason: string }).reason, /byte count/);
  const tooMany = Buffer.from(good);
  tooMany[HBS_FIELDS_END + 11] = 9;
  t.false(decodePulse(tooMany).ok);
  const badMagic = Buffer.from(good);
  badMagic.writeUInt16LE(0x1234, HBS_FIELDS_END + 2);
  t.regex((decodePulse(badMagic) as { reason: string }).reason, /magic/);
  t.false(decodePulse(good.subarray(0, good.length - 1)).ok);
  // Slack after the vault (an original dual-controller hbsAgent's request) is ignored, up to the 427-byte maximum.
  t.true(decodePulse(Buffer.concat([good, Buffer.alloc(88)])).ok);
  t.false(decodePulse(Buffer.concat([good, Buffer.alloc(HBS_PULSE_MAX)])).ok);
  t.false(decodePulse(Buffer.from("cgts pulse xyz:".padEnd(80, "\0"))).ok);
  t.false(decodePulse(Buffer.alloc(10)).ok);
  // Version 0 carries no cluster data: the fixed part alone is a valid pulse.
  const v0 = encodePulse({ kind: "req", host: "", seq: 1, rri: 0, flags: 0, version: 0 });
  t.is(v0.length, HBS_FIELDS_END);
  t.deepEqual(decodePulse(v0), { ok: true, pulse: { kind: "req", host: "", seq: 1, rri: 0, flags: 0, version: 0 } });
});

test("historyInOrder walks the ring from the oldest valid entry", (t) => {
  const h = emptyHistory(0, 0);
  for (let i = 0; i < 25; i++) {
    const e = h.entry[h.oldestEntryIndex]!;
    e.hostsEnabled = i;
    e.hostsResponding = i;
    h.entries = Math.min(20, h.entries + 1);
    h.oldestEntryIndex = (h.oldestEntryIndex + 1) % 20;
  }
  const order = historyInOrder(h).map((e) => e.hostsEnabled);
  t.deepEqual(
    order,
    Array.from({ length: 20 }, (_, i) => i + 5),
  );
  const young = emptyHistory(0, 0);
  young.entry[0] = { hostsEnabled: 4, hostsResponding: 3 };
  young.entries = 1;
  young.oldestEntryIndex = 1;
  t.deepEqual(historyInOrder(young), [{ hostsEnabled: 4, hostsResponding: 3 }]);
});
