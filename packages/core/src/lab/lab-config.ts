import type { MetalConfigInput } from "../config/index.js";

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `metal lab --config F`: the user's agent and client settings under the lab's own. Plain objects merge key by key
 * (the lab's value wins where both set one); arrays and scalars are replaced. Neither input is changed.
 */
export function labConfigOverlay(user: MetalConfigInput, lab: MetalConfigInput): MetalConfigInput {
  return merge(user, lab) as MetalConfigInput;
}

function merge(under: unknown, over: unknown): unknown {
  if (!isPlain(under) || !isPlain(over)) return over === undefined ? structuredClone(under) : structuredClone(over);
  const out: Record<string, unknown> = structuredClone(under);
  for (const [k, v] of Object.entries(over)) if (k !== "__proto__" && k !== "constructor" && k !== "prototype") out[k] = merge(out[k], v);
  return out;
}
