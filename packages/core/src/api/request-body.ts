import { parseBoundedJson } from "../validation/json-text.js";
import type { RequestErrorCode } from "./errors.js";

/** Largest request body accepted (bytes). */
export const MAX_BODY = 64 * 1024;
/** Deepest nesting a request body may have (a host with its BMC is 2 deep). */
export const MAX_BODY_DEPTH = 8;

/**
 * Decode a REST request body for any router: UTF-8 (invalid sequences refused, not replaced), at most
 * MAX_BODY bytes and MAX_BODY_DEPTH deep (counted before parsing), a JSON object. The zod schema of the
 * route then checks the fields.
 */
export function decodeRequestBody(
  bytes: Uint8Array | string,
): { ok: true; value: Record<string, unknown> } | { ok: false; code: RequestErrorCode; reason: string } {
  const r = parseBoundedJson(bytes, { maxBytes: MAX_BODY, maxDepth: MAX_BODY_DEPTH });
  if (!r.ok) {
    if (r.code === "JSON_TOO_LARGE") return { ok: false, code: "TOO_LARGE", reason: `request body over ${MAX_BODY} bytes` };
    if (r.code === "JSON_NOT_UTF8") return { ok: false, code: "BAD_JSON", reason: "request body is not valid UTF-8" };
    if (r.code === "JSON_TOO_DEEP") return { ok: false, code: "BAD_JSON", reason: `request body is nested deeper than ${MAX_BODY_DEPTH}` };
    return { ok: false, code: "BAD_JSON", reason: "request body is not valid JSON" };
  }
  if (typeof r.value !== "object" || r.value === null || Array.isArray(r.value))
    return { ok: false, code: "BAD_JSON", reason: "request body must be a JSON object" };
  return { ok: true, value: r.value as Record<string, unknown> };
}
