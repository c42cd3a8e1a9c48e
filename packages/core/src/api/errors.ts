import type { MutationFailureCode } from "../agent/mtc-agent.js";

/**
 * The HTTP status of every failure code the agent's mutations and the request decoding return, for any router
 * (node:http, Fastify): a full disk is 507 Insufficient Storage, a failing or fenced store 503 (retry, or ask
 * the active controller), bad input 400, a missing host 404, a conflict or a refused action 409.
 */
export function httpStatusOf(code: MutationFailureCode | RequestErrorCode): number {
  switch (code) {
    case "INVALID":
    case "STORE_INVALID":
    case "BAD_JSON":
    case "BAD_URL":
      return 400;
    case "NOT_FOUND":
      return 404;
    case "CONFLICT":
    case "REFUSED":
      return 409;
    case "TOO_LARGE":
      return 413;
    case "STORE_NO_SPACE":
      return 507;
    case "STORE_IO":
    case "STORE_FENCED":
    case "STORE_CLOSED":
      return 503;
  }
}

/** Codes of a request the router refuses before it reaches the agent. */
export type RequestErrorCode = "BAD_JSON" | "BAD_URL" | "TOO_LARGE";

/** The JSON error body every front end answers with. */
export function failBody(reason: string, code: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: "fail", reason, code, ...extra };
}
