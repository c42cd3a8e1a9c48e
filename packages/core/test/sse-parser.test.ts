import test from "ava";
import fc from "fast-check";
import { sseFrame } from "../src/api/sse.js";
import { SseParser } from "../src/api/sse-client.js";

test("SSE: frames the agent writes parse back to the same events whatever the chunking", (t) => {
  const ev = fc.record({
    id: fc.stringMatching(/^[0-9a-z]{1,8}-\d{1,6}$/),
    type: fc.constantFrom("host", "alarm", "heartbeat", "host-removed"),
    data: fc.jsonValue(),
  });
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }), (events, cuts) => {
        const text = `retry: 1000\n\n: keep-alive\n\n${events.map((e) => sseFrame(e)).join("")}`;
        const p = new SseParser();
        const out = [];
        let i = 0;
        let k = 0;
        while (i < text.length) {
          const n = cuts[k++ % cuts.length] as number;
          out.push(...p.push(text.slice(i, i + n)));
          i += n;
        }
        const back = out.map((e) => ({ id: e.id, type: e.event, data: JSON.parse(e.data) }));
        const want = events.map((e) => ({ id: e.id, type: e.type, data: JSON.parse(JSON.stringify(e.data)) }));
        return JSON.stringify(back) === JSON.stringify(want) && p.lastId === (events.at(-1)?.id ?? "");
      }),
    ),
  );
});

test("SSE parser: CRLF and CR line ends, multi-line data, comments and events without data", (t) => {
  const p = new SseParser();
  const out = p.push("id: a-1\r\nevent: x\r\ndata: 1\r\ndata: 2\r\n\r\n: comment\rid: a-2\r\r");
  t.deepEqual(out, [{ id: "a-1", event: "x", data: "1\n2" }]);
  t.is(p.lastId, "a-1", "an event without data is not dispatched");
});

test("SSE parser never throws on arbitrary text", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 10 }), (chunks) => {
        const p = new SseParser();
        for (const c of chunks) p.push(c);
      }),
    ),
  );
});
