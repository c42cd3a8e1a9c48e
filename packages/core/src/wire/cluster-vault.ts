/**
 * The heartbeat cluster vault `mtce_hbs_cluster_type` (reference mtce-core.md §3.4): what SM reads to judge
 * which controller sees more of the cluster. Packed, little-endian:
 *
 *   0  u8  version (1)        1  u8 revision (0)      2  u16 magic 0x5aa5
 *   4  u16 reqid              6  u16 period_msec      8  u16 bytes (= 12 + 88 * histories)
 *   10 u8  storage0_enabled   11 u8 histories         12 history[histories], 88 bytes each:
 *
 *   0  u16 bits: controller:4 | network:4 | reserved:6 | sm_heartbeat_fail:1 | storage0_responding:1 (LSB first)
 *   2  u16 entries            4  u16 entries_max      6  u16 oldest_entry_index
 *   8  { u16 hosts_enabled; u16 hosts_responding } entry[20]
 *
 * Pure functions; decode never throws, it returns a reason.
 */
export const VAULT_VERSION = 1;
export const VAULT_REVISION = 0;
export const VAULT_MAGIC = 0x5aa5;
export const VAULT_HEADER_BYTES = 12;
export const VAULT_HISTORY_ENTRIES = 20;
export const VAULT_HISTORY_BYTES = 8 + 4 * VAULT_HISTORY_ENTRIES; // 88
/** MTCE_HBS_MAX_CONTROLLERS (2) x MTCE_HBS_NETWORKS (2). */
export const VAULT_MAX_HISTORIES = 4;
export const VAULT_MAX_BYTES = VAULT_HEADER_BYTES + VAULT_MAX_HISTORIES * VAULT_HISTORY_BYTES; // 364

/** mtce_hbs_network_enum. */
export const VaultNetwork = { mgmt: 0, clusterHost: 1 } as const;

export interface VaultEntry {
  hostsEnabled: number;
  hostsResponding: number;
}

export interface ClusterHistory {
  controller: number;
  network: number;
  /** The 6 reserved bits, kept so a decoded vault re-encodes byte for byte. */
  reserved: number;
  smHeartbeatFail: boolean;
  storage0Responding: boolean;
  entries: number;
  entriesMax: number;
  oldestEntryIndex: number;
  /** Always VAULT_HISTORY_ENTRIES long: the ring buffer as stored, oldest at `oldestEntryIndex`. */
  entry: VaultEntry[];
}

export interface ClusterVault {
  version: number;
  revision: number;
  magic: number;
  reqid: number;
  periodMs: number;
  storage0Enabled: boolean;
  histories: ClusterHistory[];
}

export type VaultDecodeResult = { ok: true; vault: ClusterVault; bytes: number } | { ok: false; reason: string };

/** BYTES_IN_CLUSTER_VAULT(histories). */
export function vaultBytes(histories: number): number {
  return VAULT_HEADER_BYTES + VAULT_HISTORY_BYTES * histories;
}

export function emptyHistory(controller: number, network: number): ClusterHistory {
  return {
    controller,
    network,
    reserved: 0,
    smHeartbeatFail: false,
    storage0Responding: false,
    entries: 0,
    entriesMax: VAULT_HISTORY_ENTRIES,
    oldestEntryIndex: 0,
    entry: Array.from({ length: VAULT_HISTORY_ENTRIES }, () => ({ hostsEnabled: 0, hostsResponding: 0 })),
  };
}

export function emptyVault(periodMs: number): ClusterVault {
  return { version: VAULT_VERSION, revision: VAULT_REVISION, magic: VAULT_MAGIC, reqid: 0, periodMs, storage0Enabled: false, histories: [] };
}

export function cloneHistory(h: ClusterHistory): ClusterHistory {
  return { ...h, entry: h.entry.map((e) => ({ ...e })) };
}

/** The ring buffer in time order, oldest first, only the valid entries. */
export function historyInOrder(h: ClusterHistory): VaultEntry[] {
  const out: VaultEntry[] = [];
  const n = Math.min(h.entries, VAULT_HISTORY_ENTRIES);
  // The newest entry sits just before oldest_entry_index; the valid ones are the n before it.
  for (let i = n; i > 0; i--) {
    const idx = (((h.oldestEntryIndex - i) % VAULT_HISTORY_ENTRIES) + VAULT_HISTORY_ENTRIES) % VAULT_HISTORY_ENTRIES;
    const e = h.entry[idx];
    if (e) out.push({ ...e });
  }
  return out;
}

const u8 = (v: number, what: string) => {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${what} must be a u8`);
  return v;
};
const u16 = (v: number, what: string) => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${what} must be a u16`);
  return v;
};

/** Encode a vault: exactly `vaultBytes(histories.length)` bytes (the original sends no unused histories). */
export function encodeClusterVault(vault: ClusterVault): Buffer {
  const n = vault.histories.length;
  if (n > VAULT_MAX_HISTORIES) throw new RangeError(`a vault holds at most ${VAULT_MAX_HISTORIES} histories (got ${n})`);
  const out = Buffer.alloc(vaultBytes(n));
  out.writeUInt8(u8(vault.version, "version"), 0);
  out.writeUInt8(u8(vault.revision, "revision"), 1);
  out.writeUInt16LE(u16(vault.magic, "magic"), 2);
  out.writeUInt16LE(u16(vault.reqid, "reqid"), 4);
  out.writeUInt16LE(u16(vault.periodMs, "periodMs"), 6);
  out.writeUInt16LE(vaultBytes(n), 8);
  out.writeUInt8(vault.storage0Enabled ? 1 : 0, 10);
  out.writeUInt8(n, 11);
  vault.histories.forEach((h, i) => {
    const at = VAULT_HEADER_BYTES + i * VAULT_HISTORY_BYTES;
    if (!Number.isInteger(h.controller) || h.controller < 0 || h.controller > 15) throw new RangeError("controller must be 0..15");
    if (!Number.isInteger(h.network) || h.network < 0 || h.network > 15) throw new RangeError("network must be 0..15");
    if (!Number.isInteger(h.reserved) || h.reserved < 0 || h.reserved > 63) throw new RangeError("reserved must be 0..63");
    if (h.entry.length !== VAULT_HISTORY_ENTRIES) throw new RangeError(`history must have ${VAULT_HISTORY_ENTRIES} entries`);
    const bits = h.controller | (h.network << 4) | (h.reserved << 8) | (h.smHeartbeatFail ? 1 << 14 : 0) | (h.storage0Responding ? 1 << 15 : 0);
    out.writeUInt16LE(bits, at);
    out.writeUInt16LE(u16(h.entries, "entries"), at + 2);
    out.writeUInt16LE(u16(h.entriesMax, "entriesMax"), at + 4);
    out.writeUInt16LE(u16(h.oldestEntryIndex, "oldestEntryIndex"), at + 6);
    h.entry.forEach((e, j) => {
      out.writeUInt16LE(u16(e.hostsEnabled, "hostsEnabled"), at + 8 + 4 * j);
      out.writeUInt16LE(u16(e.hostsResponding, "hostsResponding"), at + 10 + 4 * j);
    });
  });
  return out;
}

/**
 * Decode a vault from the start of `data`. The `bytes` field must equal 12 + 88 * histories and the data
 * must hold that many bytes; anything else is refused (a wrong byte count means a sender we cannot trust).
 */
export function decodeClusterVault(data: Buffer): VaultDecodeResult {
  if (data.length < VAULT_HEADER_BYTES) return { ok: false, reason: `short vault: ${data.length} bytes, need at least ${VAULT_HEADER_BYTES}` };
  const magic = data.readUInt16LE(2);
  if (magic !== VAULT_MAGIC) return { ok: false, reason: `bad vault magic 0x${magic.toString(16)}` };
  const histories = data.readUInt8(11);
  if (histories > VAULT_MAX_HISTORIES) return { ok: false, reason: `vault claims ${histories} histories; at most ${VAULT_MAX_HISTORIES}` };
  const bytes = data.readUInt16LE(8);
  if (bytes !== vaultBytes(histories))
    return { ok: false, reason: `vault byte count ${bytes} does not match ${histories} histories (expected ${vaultBytes(histories)})` };
  if (data.length < bytes) return { ok: false, reason: `vault truncated: ${data.length} of ${bytes} bytes` };
  const vault: ClusterVault = {
    version: data.readUInt8(0),
    revision: data.readUInt8(1),
    magic,
    reqid: data.readUInt16LE(4),
    periodMs: data.readUInt16LE(6),
    storage0Enabled: data.readUInt8(10) !== 0,
    histories: [],
  };
  for (let i = 0; i < histories; i++) {
    const at = VAULT_HEADER_BYTES + i * VAULT_HISTORY_BYTES;
    const bits = data.readUInt16LE(at);
    const entry: VaultEntry[] = [];
    for (let j = 0; j < VAULT_HISTORY_ENTRIES; j++) {
      entry.push({ hostsEnabled: data.readUInt16LE(at + 8 + 4 * j), hostsResponding: data.readUInt16LE(at + 10 + 4 * j) });
    }
    vault.histories.push({
      controller: bits & 0xf,
      network: (bits >> 4) & 0xf,
      reserved: (bits >> 8) & 0x3f,
      smHeartbeatFail: (bits & (1 << 14)) !== 0,
      storage0Responding: (bits & (1 << 15)) !== 0,
      entries: data.readUInt16LE(at + 2),
      entriesMax: data.readUInt16LE(at + 4),
      oldestEntryIndex: data.readUInt16LE(at + 6),
      entry,
    });
  }
  return { ok: true, vault, bytes };
}
