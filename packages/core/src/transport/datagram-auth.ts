import { randomBytes } from "node:crypto";
import { SystemClock } from "../clock/system-clock.js";
import type { MetalConfig } from "../config/schema.js";
import { RateLimitedLog } from "../logging/rate-limited.js";
import type { Logger } from "../plugin-api/services.js";
import { type AuthKey, openDatagram, sealDatagram } from "../wire/authenticated.js";
import { type ClusterKeys, loadClusterKeys } from "./cluster-key.js";
import { ReplayWindow } from "./replay-window.js";

/**
 * What every metal UDP socket applies to what it sends and takes (transport/udp-socket.ts, udp-transport.ts):
 * `seal` before a send, `open` on receipt. Keyed: HMAC-SHA256 trailer + replay window; plain: the bytes as they
 * are (wire-compatible with the original C daemons).
 */
export interface DatagramAuth {
  readonly keyed: boolean;
  /** The bytes to put on the wire for `plain` (a new buffer with the trailer when keyed; `plain` itself otherwise). */
  seal(plain: Buffer): Buffer;
  /**
   * The original bytes of a received datagram, or undefined when it must be dropped (unsigned, mis-signed,
   * replayed, stale); the drop is logged here, rate-limited per source. `from` is the source address, `socket`
   * names the receiving socket in that log line.
   */
  open(data: Buffer, from: string, socket: string): Buffer | undefined;
}

/** Unkeyed: what goes out is what came in. */
export const PLAIN_DATAGRAMS: DatagramAuth = {
  keyed: false,
  seal: (plain) => plain,
  open: (data) => data,
};

export interface KeyedDatagramOptions {
  keys: ClusterKeys;
  logger: Logger;
  /** Replay window either way around now (ms). */
  windowMs: number;
  /** Wall clock (ms since the epoch); injected by tests. */
  now?: () => number;
}

/** Drop counters by reason (tests and the bench read them). */
export type AuthDropStats = Record<"unsigned" | "version" | "unknown-key" | "bad-mac" | "stale" | "future" | "replay" | "too-many-senders", number>;

/**
 * Keyed datagrams: seal with the signing key, a sender id random per instance and a sequence counting from 1;
 * open with any accepted key, then the replay window. One instance per process (datagramAuthFor), shared by all
 * its sockets, so a datagram replayed to another of the process's sockets is refused too.
 */
export class KeyedDatagrams implements DatagramAuth {
  readonly keyed = true;
  readonly dropped: AuthDropStats = { unsigned: 0, version: 0, "unknown-key": 0, "bad-mac": 0, stale: 0, future: 0, replay: 0, "too-many-senders": 0 };
  private readonly sender = randomBytes(8);
  private sequence = 0;
  private readonly replay: ReplayWindow;
  private readonly bad: RateLimitedLog;
  private readonly now: () => number;
  private readonly accepted: readonly AuthKey[];
  private readonly signing: AuthKey;

  constructor(options: KeyedDatagramOptions) {
    this.signing = options.keys.signing;
    this.accepted = options.keys.accepted;
    this.now = options.now ?? Date.now;
    this.replay = new ReplayWindow({ windowMs: options.windowMs });
    this.bad = new RateLimitedLog(options.logger, new SystemClock());
  }

  /** At most two keys: compare the 4 id bytes as one integer, no string or map per datagram. */
  private readonly keyFor = (id: number): AuthKey | undefined => {
    for (const k of this.accepted) if (k.idNumber === id) return k;
    return undefined;
  };

  seal(plain: Buffer): Buffer {
    return sealDatagram(plain, this.signing, this.sender, ++this.sequence, this.now());
  }

  open(data: Buffer, from: string, socket: string): Buffer | undefined {
    const r = openDatagram(data, this.keyFor);
    if (!r.ok) return this.drop(r.reason, from, socket, data.length);
    // The sender id as a number key: 53 of its 64 bits (two random senders collide with odds ~n^2/2^54).
    const f = r.fields;
    const verdict = this.replay.check(f.senderHi * 0x20_0000 + (f.senderLo >>> 11), f.sequence, f.timeMs, this.now());
    if (verdict !== "fresh") return this.drop(verdict, from, socket, data.length);
    return r.plain;
  }

  private drop(reason: keyof AuthDropStats, from: string, socket: string, bytes: number): undefined {
    this.dropped[reason]++;
    this.bad.warn(`auth:${reason}:${from}`, { from, socket, reason, bytes }, "dropped an unauthenticated datagram");
    return undefined;
  }
}

const perConfig = new WeakMap<MetalConfig, DatagramAuth>();

/**
 * The one DatagramAuth of a node's config: keyed when `security.clusterKeyFile` is set (the file is read and
 * checked here, so a daemon calling this at start refuses an unsafe key with ClusterKeyError before it binds
 * anything), plain otherwise, with one warning that control traffic is unauthenticated. Cached per config
 * object: every socket of a process shares the same sender stream and replay state.
 */
export function datagramAuthFor(config: MetalConfig, logger: Logger): DatagramAuth {
  const cached = perConfig.get(config);
  if (cached) return cached;
  const sec = config.security;
  let auth: DatagramAuth;
  if (sec.clusterKeyFile) {
    auth = new KeyedDatagrams({ keys: loadClusterKeys(sec.clusterKeyFile), logger, windowMs: sec.replayWindowSeconds * 1000 });
  } else {
    auth = PLAIN_DATAGRAMS;
    logger.warn(
      { node: config.node.hostname },
      "control traffic is unauthenticated (no security.clusterKeyFile): any host on the management network can command this node",
    );
  }
  perConfig.set(config, auth);
  return auth;
}
