/**
 * Property tests of pmond's codecs (issue 13; reference mtce-core.md §9): the amon ping-pong with AMON_MAGIC_NUM,
 * the pmon event messages to the mtcAgent, the quorum report to hostwd, and the pmon.d conf parser fed hostile
 * text. Decoders never throw; encoders never throw on what pmond can hand them (a status script's output, a
 * failure-text file); what is encoded decodes to the same thing.
 */
import assert from "node:assert/strict";
import test from "ava";
import fc from "fast-check";
import { AMON_MAGIC_NUM, amonResponseMatches, decodeAmonRequest, encodeAmonRequest, encodeAmonResponse } from "../src/pmon/amon.js";
import { formatProcessConf, MAX_PROCESS_NAME_LEN, parseProcessConf } from "../src/pmon/conf.js";
import { decodePmonEvent, encodePmondPulse, encodePmonEvent, PMON_EVENT_CODE, type PmonEvent, type PmonEventKind } from "../src/pmon/pmon-messages.js";
import { decodeQuorumReport, encodeQuorumReport, takeLines } from "../src/pmon/quorum.js";
import { decodeMtcMessage, MTC_MSG_SIZE, Signature } from "../src/wire/mtc-message.js";

const NAME_HEAD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/** A process or host name as pmon.d confs allow it (MAX_PROCESS_NAME_LEN). */
const arbName = fc
  .tuple(fc.constantFrom(...NAME_HEAD), fc.string({ unit: fc.constantFrom(...`${NAME_HEAD}._@-`), maxLength: MAX_PROCESS_NAME_LEN - 1 }))
  .map(([h, t]) => h + t);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const RUNS = { numRuns: 300 };

// --- amon ---------------------------------------------------------------------------------------------------

test("amon: the wire text is the reference's ('<process> <magic %x> <seq>', the reply with ~magic as 8 hex digits)", (t) => {
  t.is(encodeAmonRequest("hbsClient", 7).toString("latin1"), "hbsClient 12345678 7");
  t.is(encodeAmonResponse("hbsClient", 7).toString("latin1"), "hbsClient edcba987 7");
  t.is(AMON_MAGIC_NUM, 0x12345678);
});

test("amon: a request decodes to its name and sequence; its reply matches exactly that name and sequence", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(arbName, u32, arbName, u32, (name, seq, other, otherSeq) => {
        const req = decodeAmonRequest(encodeAmonRequest(name, seq));
        assert.deepEqual(req, { ok: true, process: name, seq });
        const reply = encodeAmonResponse(name, seq);
        assert.ok(amonResponseMatches(reply, name, seq));
        if (other !== name) assert.ok(!amonResponseMatches(reply, other, seq), "another process's reply");
        if (otherSeq !== seq) assert.ok(!amonResponseMatches(reply, name, otherSeq), "a stale sequence");
        // The request is not a reply (magic not inverted) and the reply is not a request.
        assert.ok(!amonResponseMatches(encodeAmonRequest(name, seq), name, seq));
        assert.ok(!decodeAmonRequest(reply).ok);
      }),
      RUNS,
    ),
  );
});

test("amon: a reply whose text is not exactly the expected one never matches (wrapped sequences, extra digits, changed bytes)", (t) => {
  const magic = (~AMON_MAGIC_NUM >>> 0).toString(16);
  fc.assert(
    fc.property(arbName, u32, (name, seq) => {
      // The same sequence modulo 2^32 written as a longer number (or with leading zeros) is another sequence.
      const wrapped = seq + 2 ** 32;
      assert.ok(!amonResponseMatches(Buffer.from(`${name} ${magic} 0${seq}`, "latin1"), name, seq), `seq 0${seq}`);
      if (wrapped <= 9_999_999_999) assert.ok(!amonResponseMatches(Buffer.from(`${name} ${magic} ${wrapped}`, "latin1"), name, seq), `seq ${wrapped}`);
      assert.ok(!decodeAmonRequest(Buffer.from(`${name} 12345678 ${wrapped}`, "latin1")).ok, `request seq ${wrapped}`);
    }),
    RUNS,
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(arbName, u32, fc.nat(), fc.integer({ min: 1, max: 255 }), (name, seq, at, delta) => {
        const good = encodeAmonResponse(name, seq);
        const bad = Buffer.from(good);
        const i = at % bad.length;
        bad[i] = ((bad[i] as number) + delta) & 0xff;
        const text = bad.toString("latin1");
        // A changed byte that still spells the same reply (an upper-case hex digit, trailing space) may match.
        const same = text.trim().toLowerCase() === good.toString("latin1").toLowerCase();
        if (!same) assert.ok(!amonResponseMatches(bad, name, seq), JSON.stringify(text));
      }),
      RUNS,
    ),
  );
});

test("amon: any bytes decode without throwing", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), arbName, u32, (bytes, name, seq) => {
        const b = Buffer.from(bytes);
        const r = decodeAmonRequest(b);
        if (r.ok) assert.ok(r.seq >= 0 && r.seq <= 0xffffffff);
        assert.equal(typeof amonResponseMatches(b, name, seq), "boolean");
      }),
      RUNS,
    ),
  );
});

// --- pmon events ----------------------------------------------------------------------------------------------

const arbKind = fc.constantFrom(...(Object.keys(PMON_EVENT_CODE) as PmonEventKind[]));
/** What a reason can hold: a status script's output or a failure-text file, any text at all. */
const arbReason = fc.oneof(
  fc.string({ maxLength: 600 }),
  fc.string({ unit: "grapheme", maxLength: 600, size: "max" }),
  fc.string({ unit: fc.constantFrom("\u0001", "\u001f", '"', "\\", "\u2028", "é", "😀", "a"), maxLength: 600, size: "max" }),
);
const arbEvent: fc.Arbitrary<PmonEvent> = fc.record(
  { kind: arbKind, hostname: arbName, process: arbName, functionMask: u32, reason: arbReason },
  { requiredKeys: ["kind", "hostname", "process", "functionMask"] },
);

test("pmon event: encode never throws on any reason and decodes to the same event (a reason too long for the 960-byte buf is cut, never dropped)", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(arbEvent, (e) => {
        const bytes = encodePmonEvent(e);
        assert.ok(bytes.length <= MTC_MSG_SIZE);
        const d = decodePmonEvent(bytes);
        if (!d.ok) return assert.fail(d.reason);
        const { reason, ...rest } = d.value;
        const { reason: sent, ...sentRest } = e;
        assert.deepEqual(rest, sentRest);
        if (!sent) return assert.equal(reason, undefined);
        assert.ok(reason, "a reason was sent");
        assert.ok(sent.startsWith(reason as string), "the received reason is the start of the sent one");
        // Cut only when it did not fit: a short plain reason arrives whole.
        if (sent.length <= 200 && /^[\x20-\x7e]*$/.test(sent)) assert.equal(reason, sent);
        // The header names the host as the original does, when it fits.
        const m = decodeMtcMessage(bytes);
        if (m.ok && e.hostname.length < 32) assert.equal(m.msg.hostname, e.hostname);
      }),
      RUNS,
    ),
  );
});

test("pmon event: any bytes, and any corruption of a real event, decode without throwing; a decoded event is valid", (t) => {
  fc.assert(
    fc.property(arbEvent, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), (e, flips, cut) => {
      const b = Buffer.from(encodePmonEvent(e));
      for (const [at, v] of flips) b[at % b.length] = v;
      for (const bytes of [b, b.subarray(0, cut % (b.length + 1))]) {
        const d = decodePmonEvent(bytes);
        if (d.ok) {
          assert.match(d.value.process, /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/);
          assert.match(d.value.hostname, /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/);
          assert.ok(Object.keys(PMON_EVENT_CODE).includes(d.value.kind));
        }
      }
    }),
    RUNS,
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1100 }), (bytes) => {
        assert.equal(typeof decodePmonEvent(Buffer.from(bytes)).ok, "boolean");
      }),
      RUNS,
    ),
  );
});

test("pmond pulse: any host name encodes to a header-only 'pmond alive pulse' that is not a pmon event", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(arbName, (host) => {
        const b = encodePmondPulse(host);
        const m = decodeMtcMessage(b);
        if (!m.ok) return assert.fail(m.reason);
        assert.equal(m.msg.signature, Signature.pmondPulse);
        assert.ok(!decodePmonEvent(b).ok);
      }),
      RUNS,
    ),
  );
});

// --- quorum report ------------------------------------------------------------------------------------------------

const arbReport = fc
  .record({ hostname: arbName, quorum: fc.constantFrom("ok" as const, "failed" as const), failed: fc.array(arbName, { maxLength: 100 }) })
  .map((r) => ({ ...r }));

test("quorum report: encode -> decode is the identity; one line each; any text decodes without throwing", (t) => {
  fc.assert(
    fc.property(arbReport, (r) => {
      const line = encodeQuorumReport(r);
      assert.equal(line.indexOf("\n"), line.length - 1);
      assert.deepEqual(decodeQuorumReport(line.trimEnd()), { ok: true, value: r });
    }),
    RUNS,
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.json(), fc.constant('{"service":"pmond","quorum":"ok","failed":[1,{},"x"]}')), (s) => {
        const d = decodeQuorumReport(s);
        if (d.ok) {
          assert.ok(d.value.quorum === "ok" || d.value.quorum === "failed");
          assert.ok(d.value.failed.every((x) => typeof x === "string" && x.length <= 64));
        }
      }),
      RUNS,
    ),
  );
});

test("quorum stream: lines come out the same however the stream is cut into chunks", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(arbReport, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (reports, cuts) => {
        const text = reports.map(encodeQuorumReport).join("");
        const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        let rest = "";
        const lines: string[] = [];
        let from = 0;
        for (const c of [...at, text.length]) {
          const r = takeLines(rest, text.slice(from, c));
          lines.push(...r.lines);
          rest = r.rest;
          from = c;
        }
        assert.equal(rest, "");
        assert.deepEqual(
          lines.map((l) => decodeQuorumReport(l)),
          reports.map((value) => ({ ok: true, value })),
        );
      }),
      RUNS,
    ),
  );
});

// --- pmon.d conf ------------------------------------------------------------------------------------------------

/** Lines a hostile or broken conf file may hold. */
const arbConfLine = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.constantFrom(
    "[process]",
    "[ process ]",
    "[__proto__]",
    "__proto__ = 1",
    "constructor = x",
    "process[] = a",
    "process = ",
    "mode = active",
    "mode = status",
    "port = 70000",
    "restarts = -1",
    "restarts = 1e3",
    "severity = fatal",
    "pidfile = /var/run/../../../../etc/shadow",
    "script = ../../bin/sh",
    "status_failure_text = /var/run/../../x",
    "quorum = yes",
    "\u0000",
    "; comment",
    "# comment",
    "period = 0",
  ),
  fc
    .tuple(
      fc.constantFrom("process", "pidfile", "script", "port", "restarts", "severity", "mode", "period", "timeout", "command"),
      fc.string({ maxLength: 40 }),
    )
    .map(([k, v]) => `${k} = ${v}`),
);

test("conf: any text either parses to a valid conf or throws PMON_CONF_INVALID naming the file, nothing else", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(arbConfLine, { maxLength: 25 }), fc.constantFrom("\n", "\r\n"), (lines, eol) => {
        const text = lines.join(eol);
        try {
          const c = parseProcessConf(text, "hostile.conf", "/lab/root");
          assert.match(c.process, /^[A-Za-z0-9][A-Za-z0-9._@-]*$/);
          assert.ok(c.process.length <= MAX_PROCESS_NAME_LEN);
          if (c.mode === "active") assert.ok(c.port !== undefined && c.port >= 1 && c.port <= 65535);
          assert.ok(c.timeout <= c.period);
          assert.ok(Number.isInteger(c.restarts) && c.restarts >= 0);
          // Paths stay under the node's root.
          for (const p of [c.pidfile, c.script, c.statusFailureText]) if (p?.startsWith("/")) assert.ok(p.startsWith("/lab/root/"), p);
          assert.ok(!(Object.hasOwn(Object.prototype, "process") || Object.hasOwn(Object.prototype, "1")), "no prototype pollution");
        } catch (err) {
          assert.equal((err as { code?: string }).code, "PMON_CONF_INVALID", String(err));
          assert.ok((err as Error).message.startsWith("hostile.conf: "));
        }
      }),
      { numRuns: 500 },
    ),
  );
});

test("conf: a path that climbs out of the node's root is refused", (t) => {
  for (const key of ["pidfile", "script", "status_failure_text"]) {
    const fields = { process: "p", mode: key === "script" ? "passive" : "passive", [key]: "/var/run/../../../etc/shadow" };
    const err = t.throws(() => parseProcessConf(formatProcessConf(fields), "climb.conf", "/lab/root"));
    t.is((err as { code?: string }).code, "PMON_CONF_INVALID");
    t.regex(err?.message ?? "", new RegExp(key));
  }
  // Inside the root, '..' that stays inside is as good as the plain path.
  t.is(parseProcessConf(formatProcessConf({ process: "p", pidfile: "/var/run/x/../p.pid" }), "ok.conf", "/lab/root").pidfile, "/lab/root/var/run/p.pid");
});

test("conf: formatProcessConf -> parseProcessConf keeps every field", (t) => {
  const arbFields = fc.record({
    process: arbName,
    severity: fc.constantFrom("minor", "major", "critical"),
    restarts: fc.integer({ min: 0, max: 1000 }),
    interval: fc.integer({ min: 0, max: 3600 }),
    debounce: fc.integer({ min: 0, max: 3600 }),
    startuptime: fc.integer({ min: 0, max: 3600 }),
    mode: fc.constantFrom("passive", "active"),
    port: fc.integer({ min: 1, max: 65535 }),
    period: fc.integer({ min: 1, max: 3600 }),
    timeout: fc.integer({ min: 1, max: 3600 }),
    threshold: fc.integer({ min: 1, max: 1000 }),
    quorum: fc.constantFrom(0, 1),
    pidfile: arbName.map((n) => `/var/run/${n}.pid`),
  });
  t.notThrows(() =>
    fc.assert(
      fc.property(arbFields, (f) => {
        const c = parseProcessConf(formatProcessConf(f), "x.conf", "/");
        const { process, severity, restarts, interval, debounce, startuptime, mode, port, period, timeout, threshold, quorum, pidfile } = c;
        assert.deepEqual(
          { process, severity, restarts, interval, debounce, startuptime, mode, port, period, timeout, threshold, quorum, pidfile },
          { ...f, timeout: Math.min(f.timeout, f.period), quorum: f.quorum === 1 },
        );
      }),
      RUNS,
    ),
  );
});
