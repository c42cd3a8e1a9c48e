import test from "ava";
import fc from "fast-check";
import { parseTap } from "../src/cli/tap-summary.js";

const AVA_TAP = `TAP version 13
ok 1 - skipped # SKIP
ok 2 - acme: capability shape 'power'
not ok 3 - acme: a wrong password gives an auth error
  ---
    name: AssertionError
    assertion: t.true()
    details:
      'Value is not \`true\`:': 'false'
    message: 'a BMC error with a stable code, not Error (code undefined)'
    at: >-
      ExecutionContext.true
      (file:///x/node_modules/ava/lib/assert.js:719:15)
  ...
not ok 4 - throws
  ---
    name: AssertionError
    details:
      'Rejected promise returned by test. Reason:': |-
        Error {
          message: \`boom: multi␊
          line\`,
        }
    message: Rejected promise returned by test
    at: line
  ...

1..4
# tests 4
`;

test("ava's TAP becomes one result per test with a one-line reason and no stack frames", (t) => {
  const tests = parseTap(AVA_TAP);
  t.deepEqual(
    tests.map((x) => [x.title, x.status]),
    [
      ["skipped", "skip"],
      ["acme: capability shape 'power'", "pass"],
      ["acme: a wrong password gives an auth error", "fail"],
      ["throws", "fail"],
    ],
  );
  t.is(tests[2]?.reason, "a BMC error with a stable code, not Error (code undefined): Value is not `true`: false");
  t.regex(tests[3]?.reason ?? "", /^Rejected promise returned by test\. Reason: Error \{ message: `boom: multi line`, \}$/);
  for (const x of tests) t.notRegex(x.reason ?? "", /assert\.js|file:\/\//);
});

test("parseTap never throws and finds no more tests than the stream's ok/not ok lines", (t) => {
  const line = fc.oneof(
    fc.string(),
    fc
      .tuple(
        fc.boolean(),
        fc.nat(99),
        fc.string().filter((s) => !s.includes("\n") && !s.includes("#")),
      )
      .map(([ok, n, title]) => `${ok ? "" : "not "}ok ${n} - ${title}`),
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
        const text = lines.join("\n");
        const tests = parseTap(text);
        const expected = text.split("\n").filter((l) => /^(not )?ok\s+\d+/.test(l.trimEnd()) && !/^\s/.test(l));
        return tests.length <= expected.length;
      }),
    ),
  );
});
