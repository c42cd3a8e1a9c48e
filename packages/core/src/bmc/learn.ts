import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { HostRecord, InventoryStore } from "../inventory/store.js";
import { BmcError, type BmcTarget } from "../plugin-api/bmc.js";

export type LearnedProtocol = "redfish" | "ipmi";

export interface LearnResult {
  protocol: LearnedProtocol;
  /** One line: why this protocol was chosen (printed by `metal bmc learn`). */
  reason: string;
  redfishVersion?: string;
}

/** Reference §6.1 redfishUtil_is_supported: RedfishVersion parses to major ≥ 1 (and minor ≥ 0). */
export function redfishVersionSupported(v: unknown): boolean {
  if (typeof v !== "string") return false;
  const m = /^(\d+)\.(\d+)/.exec(v.trim());
  return !!m && Number(m[1]) >= 1 && Number(m[2]) >= 0;
}

function getJson(url: URL, target: BmcTarget, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === "https:" ? https : http;
    const req = lib.request(
      url,
      {
        method: "GET",
        headers: { Accept: "application/json" },
        timeout: timeoutMs,
        ...(url.protocol === "https:" ? { rejectUnauthorized: !target.insecure, ...(target.caFile ? { ca: readFileSync(target.caFile) } : {}) } : {}),
      },
      (res) => {
        let text = "";
        let size = 0;
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          size += c.length;
          if (size > 1_000_000) req.destroy(new Error("service root larger than 1 MB"));
          else text += c;
        });
        res.on("end", () => {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|HOSTNAME_MISMATCH|ERR_TLS_CERT/i;

/** Node's certificate-verification failures (SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID, ...). */
export function isTlsVerificationError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && TLS_CODES.test(code);
}

/**
 * Protocol learning for bm_type dynamic (reference §6.1): query the Redfish service root; a RedfishVersion
 * of 1.0 or later means redfish, anything else (no answer, an error, no version) means ipmi. A certificate that
 * fails verification is not "no answer": it throws a BmcError (code protocol) that says how to pass --ca/--insecure.
 * The service root needs no credentials, so learning never risks a lockout with a wrong password.
 */
export async function learnProtocol(target: BmcTarget, opts: { scheme?: "http" | "https"; timeoutMs?: number } = {}): Promise<LearnResult> {
  const scheme = opts.scheme ?? (target.options?.scheme === "http" ? "http" : "https");
  const host = target.address.includes(":") && !target.address.startsWith("[") ? `[${target.address}]` : target.address;
  const url = new URL(`${scheme}://${host}${target.port ? `:${target.port}` : ""}/redfish/v1/`);
  try {
    const { status, body } = await getJson(url, target, opts.timeoutMs ?? target.timeoutMs ?? 10_000);
    const version = (body as { RedfishVersion?: unknown } | undefined)?.RedfishVersion;
    if (status === 200 && redfishVersionSupported(version)) {
      return { protocol: "redfish", reason: `${url} answered RedfishVersion ${String(version)}`, redfishVersion: String(version) };
    }
    if (status !== 200) return { protocol: "ipmi", reason: `${url} answered HTTP ${status}; defaulting to ipmi` };
    return { protocol: "ipmi", reason: `${url} has no supported RedfishVersion (${version === undefined ? "none" : String(version)}); defaulting to ipmi` };
  } catch (err) {
    // An untrusted certificate proves an https service is there: falling back to IPMI would hide the real
    // cause behind "BMC does not answer". Say what failed and how to pass the CA or skip verification.
    if (isTlsVerificationError(err)) {
      const e = err as { code?: string; message?: string };
      throw new BmcError(
        "protocol",
        `${url}: TLS verification failed (${e.code ?? e.message}); pass the BMC's CA with --ca <file> (bmc.caFile) or skip verification with --insecure`,
        target.host,
      );
    }
    // A plain-HTTP service answering the TLS hello is a web server (likely Redfish) on the wrong scheme, not "none".
    const code = (err as { code?: unknown }).code;
    if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || /wrong version number/i.test((err as Error).message ?? "")) {
      throw new BmcError("protocol", `${url}: the BMC answers plain HTTP, not TLS; use --scheme http (bmc scheme) if that is intended`, target.host);
    }
    return { protocol: "ipmi", reason: `no Redfish service at ${url} (${(err as Error).message}); defaulting to ipmi` };
  }
}

/** The host with its learned protocol recorded: bmc.learned, and mtce_info bmc_protocol as the reference stores it. */
export function withLearned(host: HostRecord & { bmc: NonNullable<HostRecord["bmc"]> }, protocol: LearnedProtocol): HostRecord {
  return { ...host, bmc: { ...host.bmc, learned: protocol }, mtceInfo: { ...host.mtceInfo, bmc_protocol: protocol } };
}

/**
 * The host after its BMC provisioning changed: the learned protocol is kept while the BMC's type, address and
 * port stay the same, and forgotten (learned again on next use) when any of them changes (reference §6.1).
 */
export function carryLearned(before: HostRecord, after: HostRecord): HostRecord {
  const was = before.bmc;
  const now = after.bmc;
  const same = !!was && !!now && was.type === now.type && was.address === now.address && was.port === now.port;
  if (same) return was.learned && !now.learned ? withLearned({ ...after, bmc: now }, was.learned as LearnedProtocol) : after;
  const next: HostRecord = { ...after };
  if (now) {
    const { learned: _, ...bmc } = now;
    next.bmc = bmc;
  }
  if (after.mtceInfo) {
    const { bmc_protocol: _, ...mtceInfo } = after.mtceInfo;
    next.mtceInfo = mtceInfo;
  }
  return next;
}

/** Persist the learned protocol with the host in the store (for tools that do not run an mtcAgent). */
export async function persistLearned(store: InventoryStore, hostname: string, result: LearnResult): Promise<HostRecord> {
  const host = (await store.load()).hosts.find((h) => h.hostname === hostname);
  if (!host) throw new Error(`unknown host '${hostname}'`);
  if (!host.bmc) throw new Error(`host '${hostname}' has no BMC provisioned`);
  const updated = withLearned({ ...host, bmc: host.bmc }, result.protocol);
  await store.save(updated);
  return updated;
}
