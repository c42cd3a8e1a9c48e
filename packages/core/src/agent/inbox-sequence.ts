import type { NetworkName } from "../transport/transport.js";

export type SequenceVerdict =
  | { kind: "first" }
  | { kind: "inOrder" }
  /** The client restarted or a stale message arrived: "out-of-sequence ... correcting". */
  | { kind: "outOfSequence"; expected: number }
  /** Messages were lost on the way: "missed N mtcAlive msgs". */
  | { kind: "missed"; count: number }
  | { kind: "duplicate" };

/**
 * mtcAlive sequence monitoring (reference §4, nodeClass.cpp: set_mtcAlive). The client numbers each
 * interface from 1; the agent remembers the last value per host and network and says what a new one means.
 * The stored value always follows the newest message, so one gap is reported once.
 */
export function judgeSequence(previous: number, seq: number): SequenceVerdict {
  if (previous === 0) return { kind: "first" };
  const expected = previous + 1;
  if (seq === expected) return { kind: "inOrder" };
  if (seq === previous) return { kind: "duplicate" };
  if (seq < expected) return seq > 2 ? { kind: "outOfSequence", expected } : { kind: "first" };
  return { kind: "missed", count: seq - expected };
}

export function sequenceLogKey(hostname: string, network: NetworkName): string {
  return `seq:${hostname}:${network}`;
}
