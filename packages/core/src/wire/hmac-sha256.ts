/**
 * HMAC-SHA256 (RFC 2104 over FIPS 180-4 SHA-256) for one fixed key, with the key's inner and outer pad blocks
 * compressed once at construction (the "precomputed midstate" every HMAC implementation may keep, RFC 2104 §4).
 * A 300-byte datagram then costs 6 compressions and no allocation, where node:crypto's createHmac costs 8
 * compressions plus a native object, a KeyObject lookup and a digest Buffer per call: on the authenticated
 * inbox (wire/authenticated.ts) this is the difference between meeting issue 11's throughput target and not.
 * The result is byte-for-byte node:crypto's `createHmac("sha256", key)` (test/hmac-sha256.test.ts checks it
 * with fast-check over keys and messages of every length). SHA-256 has no data-dependent branch or table
 * index, so timing does not depend on the key or the data; `verify` compares in constant time.
 * Not reentrant: one scratch state per instance (JavaScript runs one call at a time on a thread).
 */
import { createHash } from "node:crypto";

/** SHA-256 round constants (FIPS 180-4 §4.2.2). */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
  0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
  0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
  0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
/** SHA-256 initial hash value (FIPS 180-4 §5.3.3). */
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const BLOCK = 64;
/** HMAC-SHA256 output size in bytes. */
export const HMAC_SHA256_BYTES = 32;

/** The message schedule, shared by every instance (no call is ever interleaved with another). */
const W = new Int32Array(64);

/** One SHA-256 compression of the 64 bytes at `b[at]` into `st` (FIPS 180-4 §6.2.2). */
function compress(st: Int32Array, b: Uint8Array, at: number): void {
  const w = W;
  for (let i = 0; i < 16; i++, at += 4) w[i] = ((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number);
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15] as number;
    const y = w[i - 2] as number;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
  }
  let a = st[0] as number;
  let b1 = st[1] as number;
  let c = st[2] as number;
  let d = st[3] as number;
  let e = st[4] as number;
  let f = st[5] as number;
  let g = st[6] as number;
  let h = st[7] as number;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + (g ^ (e & (f ^ g))) + (K[i] as number) + (w[i] as number)) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b1) | (c & (a | b1)))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b1;
    b1 = a;
    a = (t1 + t2) | 0;
  }
  st[0] = ((st[0] as number) + a) | 0;
  st[1] = ((st[1] as number) + b1) | 0;
  st[2] = ((st[2] as number) + c) | 0;
  st[3] = ((st[3] as number) + d) | 0;
  st[4] = ((st[4] as number) + e) | 0;
  st[5] = ((st[5] as number) + f) | 0;
  st[6] = ((st[6] as number) + g) | 0;
  st[7] = ((st[7] as number) + h) | 0;
}

/** HMAC-SHA256 under one key; see the file comment. */
export class HmacSha256 {
  private readonly inner = IV.slice();
  private readonly outer = IV.slice();
  private readonly st = new Int32Array(8);
  /** The last one or two (padded) blocks of the inner hash, then the outer hash's single block. */
  private readonly tail = new Uint8Array(2 * BLOCK);

  /** `secret`: any length (longer than 64 bytes is hashed first, RFC 2104 §2). The bytes are not kept. */
  constructor(secret: Uint8Array) {
    const key = secret.length > BLOCK ? createHash("sha256").update(secret).digest() : secret;
    const pad = new Uint8Array(BLOCK);
    for (let i = 0; i < BLOCK; i++) pad[i] = (key[i] ?? 0) ^ 0x36;
    compress(this.inner, pad, 0);
    for (let i = 0; i < BLOCK; i++) pad[i] = (key[i] ?? 0) ^ 0x5c;
    compress(this.outer, pad, 0);
    pad.fill(0);
  }

  /** Leave the MAC of `data[0 .. length)` as 8 big-endian words in `this.st`. */
  private run(data: Uint8Array, length: number): Int32Array {
    if (!(length >= 0 && length <= data.length)) throw new RangeError(`length ${length} outside 0 .. ${data.length}`);
    const st = this.st;
    const tail = this.tail;
    st.set(this.inner);
    let at = 0;
    for (; at + BLOCK <= length; at += BLOCK) compress(st, data, at);
    const rest = length - at;
    tail.fill(0);
    for (let i = 0; i < rest; i++) tail[i] = data[at + i] as number;
    tail[rest] = 0x80;
    const end = rest + 9 > BLOCK ? 2 * BLOCK : BLOCK;
    // Message length in bits, counting the inner pad block: (64 + length) * 8, as a 64-bit big-endian integer.
    const bits = (BLOCK + length) * 8;
    const hi = Math.floor(bits / 0x1_0000_0000);
    tail[end - 8] = hi >>> 24;
    tail[end - 7] = hi >>> 16;
    tail[end - 6] = hi >>> 8;
    tail[end - 5] = hi;
    tail[end - 4] = bits >>> 24;
    tail[end - 3] = bits >>> 16;
    tail[end - 2] = bits >>> 8;
    tail[end - 1] = bits;
    compress(st, tail, 0);
    if (end > BLOCK) compress(st, tail, BLOCK);
    // Outer hash: one block = the 32-byte inner digest, 0x80, zeros, length (64 + 32) * 8 = 768 bits.
    tail.fill(0, 0, BLOCK);
    for (let i = 0; i < 8; i++) {
      const v = st[i] as number;
      tail[4 * i] = v >>> 24;
      tail[4 * i + 1] = v >>> 16;
      tail[4 * i + 2] = v >>> 8;
      tail[4 * i + 3] = v;
    }
    tail[32] = 0x80;
    tail[62] = 768 >>> 8;
    tail[63] = 768 & 0xff;
    st.set(this.outer);
    compress(st, tail, 0);
    return st;
  }

  /** Write the MAC of `data[0 .. length)` into `out[outAt .. outAt + 32)`. RangeError when either is out of bounds. */
  digestInto(data: Uint8Array, length: number, out: Uint8Array, outAt: number): void {
    if (!(outAt >= 0 && outAt + HMAC_SHA256_BYTES <= out.length)) throw new RangeError(`no room for a MAC at ${outAt}`);
    const st = this.run(data, length);
    for (let i = 0; i < 8; i++, outAt += 4) {
      const v = st[i] as number;
      out[outAt] = v >>> 24;
      out[outAt + 1] = v >>> 16;
      out[outAt + 2] = v >>> 8;
      out[outAt + 3] = v;
    }
  }

  /** The MAC of `data` as a new 32-byte Buffer. */
  digest(data: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(HMAC_SHA256_BYTES);
    this.digestInto(data, data.length, out, 0);
    return out;
  }

  /**
   * Whether `data[macAt .. macAt + 32)` is the MAC of `data[0 .. length)`, compared in constant time. False
   * (never a throw) when the MAC would not fit in `data`.
   */
  verify(data: Uint8Array, length: number, macAt: number): boolean {
    if (!(macAt >= 0 && macAt + HMAC_SHA256_BYTES <= data.length && length >= 0 && length <= data.length)) return false;
    const st = this.run(data, length);
    let diff = 0;
    for (let i = 0, at = macAt; i < 8; i++, at += 4) {
      diff |=
        (st[i] as number) ^ (((data[at] as number) << 24) | ((data[at + 1] as number) << 16) | ((data[at + 2] as number) << 8) | (data[at + 3] as number));
    }
    return diff === 0;
  }
}
