/**
 * Bounded JSON decoding for everything metal reads from outside its own memory (REST bodies, stored records).
 * Bytes must be UTF-8 (a bad sequence is refused, never replaced), nesting is counted on the raw text before
 * JSON.parse runs, so a 5,000-deep array is refused cheaply and never reaches code that recurses over it.
 */

/** Why bytes are not acceptable JSON. Stable codes; `reason` is for people. */
export type JsonTextErrorCode = "JSON_TOO_LARGE" | "JSON_NOT_UTF8" | "JSON_TOO_DEEP" | "JSON_SYNTAX" | "JSON_EMPTY";

export type JsonTextResult = { ok: true; value: unknown } | { ok: false; code: JsonTextErrorCode; reason: string };

export interface JsonBounds {
  /** Largest accepted input in bytes. */
  maxBytes: number;
  /** Deepest accepted nesting of arrays/objects (the top-level object is depth 1). */
  maxDepth: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * The nesting depth of JSON text: the largest number of `[`/`{` open at once, outside strings. Linear, no
 * recursion; stops counting (and returns a value > limit) as soon as `limit` is exceeded.
 */
export function jsonNestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
      continue;
    }
    if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return max;
}

/** Decode bytes (or a string already decoded) as bounded JSON. Never throws. */
export function parseBoundedJson(input: Uint8Array | string, bounds: JsonBounds): JsonTextResult {
  const size = typeof input === "string" ? Buffer.byteLength(input) : input.byteLength;
  if (size > bounds.maxBytes) return { ok: false, code: "JSON_TOO_LARGE", reason: `over ${bounds.maxBytes} bytes` };
  let text: string;
  if (typeof input === "string") text = input;
  else {
    try {
      text = utf8.decode(input);
    } catch {
      return { ok: false, code: "JSON_NOT_UTF8", reason: "not valid UTF-8" };
    }
  }
  if (text.trim() === "") return { ok: false, code: "JSON_EMPTY", reason: "empty" };
  if (jsonNestingDepth(text, bounds.maxDepth) > bounds.maxDepth) return { ok: false, code: "JSON_TOO_DEEP", reason: `nested deeper than ${bounds.maxDepth}` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, code: "JSON_SYNTAX", reason: `not valid JSON (${(err as Error).message.slice(0, 80)})` };
  }
}

/** Depth of an already-parsed value (arrays and objects count), iterative; stops past `limit`. */
export function valueDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    if (d > max) {
      max = d;
      if (max > limit) return max;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}
