/** One test of a TAP stream: its title, the outcome and, for a failure, the one-line reason. */
export interface TapTest {
  readonly title: string;
  readonly status: "pass" | "fail" | "skip" | "todo";
  readonly reason?: string;
}

/**
 * Read a TAP 13 stream (what `ava --tap` prints) into its tests: `ok N - title`, `not ok N - title` followed by
 * an indented YAML block whose `message:` (else `name:`) and `details:` make the reason; `# SKIP` / `# TODO`
 * directives. Stack
 * frames (`at:` and the lines under it) are dropped: an operator sees which check failed and why, not ava's
 * internals. Lines that are not TAP (a test's own output) are ignored. Pure; never throws.
 */
export function parseTap(text: string): TapTest[] {
  const tests: Array<{ title: string; status: TapTest["status"]; message?: string; name?: string; details: string[] }> = [];
  let inBlock = false;
  let key = "";
  let current: (typeof tests)[number] | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const m = /^(not )?ok\s+\d+\s*(?:-\s*)?(.*?)(?:\s+#\s*(SKIP|TODO)\b.*)?$/i.exec(line);
    if (m && !inBlock) {
      const directive = m[3]?.toUpperCase();
      const status: TapTest["status"] = directive === "SKIP" ? "skip" : directive === "TODO" ? "todo" : m[1] ? "fail" : "pass";
      current = { title: (m[2] ?? "").trim(), status, details: [] };
      tests.push(current);
      continue;
    }
    if (/^\s+---\s*$/.test(line)) {
      inBlock = true;
      key = "";
      continue;
    }
    if (/^\s+\.\.\.\s*$/.test(line)) {
      inBlock = false;
      continue;
    }
    if (!inBlock || current?.status !== "fail") continue;
    // Keys of the block sit at the first indent (4 spaces from ava); deeper lines belong to the key above.
    const kv = /^ {4}([A-Za-z]+):\s*(.*)$/.exec(line);
    if (kv) {
      key = kv[1] as string;
      const value = kv[2] === "|-" || kv[2] === ">-" || kv[2] === "|" || kv[2] === ">" ? "" : unquote(kv[2] ?? "");
      if (key === "message") current.message = value;
      if (key === "name") current.name = value;
      continue;
    }
    if (key === "details" && line.trim()) current.details.push(unquote(line.trim()));
  }
  return tests.map((t) => {
    const details = t.details.join(" ").replace(/\s+/g, " ").trim().slice(0, 400);
    const head = t.message || t.name || "";
    // ava's details often repeat the message ("Rejected promise returned by test. Reason: ..."): say it once.
    const reason = head && details.startsWith(head) ? details : [head, details].filter((x) => x).join(": ");
    return t.status === "fail" && reason ? { title: t.title, status: t.status, reason } : { title: t.title, status: t.status };
  });
}

/** A YAML scalar or `'key': value` line of ava's block, without its quotes (ava's ␊ marks a newline). */
function unquote(s: string): string {
  const q = /^(['"])(.*?)\1(?:(:)\s*(.*))?$/.exec(s);
  if (!q) return s.replace(/␊/g, " ");
  const key = (q[1] === "'" ? (q[2] ?? "").replace(/''/g, "'") : (q[2] ?? "")).replace(/␊/g, " ");
  if (q[3] === undefined) return key;
  const value = q[4] && !/^[|>][-+]?$/.test(q[4]) ? unquote(q[4]) : "";
  return `${key}${key.endsWith(":") ? "" : ":"}${value ? ` ${value}` : ""}`;
}
