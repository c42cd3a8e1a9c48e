import { readFileSync, statSync } from "node:fs";
import { ConsecutiveBreaker, circuitBreaker, handleWhen, retry } from "cockatiel";
import { Etcd3, GRPCUnavailableError, isRecoverableError } from "etcd3";
import type { StoreConfig } from "../config/ha-schema.js";

/**
 * One etcd3 client for the store and the election. Every unary call carries a deadline (`callTimeoutMs`), so a member
 * that lost quorum cannot hold a caller longer than that; a failed call is retried on another endpoint, and a member
 * that failed is skipped for one second only (so a recovered member is back at once). TLS from PEM files; auth from a 0600 JSON credentials file.
 * Throws `Error` with code `ETCD_CONFIG` when a credentials file is readable by others or malformed.
 */
export function createEtcdClient(store: StoreConfig): Etcd3 {
  const tls = store.tls
    ? {
        credentials: {
          rootCertificate: readFileSync(store.tls.caFile),
          ...(store.tls.keyFile ? { privateKey: readFileSync(store.tls.keyFile) } : {}),
          ...(store.tls.certFile ? { certChain: readFileSync(store.tls.certFile) } : {}),
        },
      }
    : {};
  const auth = store.credentialsFile ? { auth: readCredentials(store.credentialsFile) } : {};
  return new Etcd3({
    hosts: store.endpoints,
    dialTimeout: store.callTimeoutMs,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + store.callTimeoutMs }),
    faultHandling: {
      // A member that refused a connection (gone) is skipped for a second, then tried again: a dead member costs one
      // call. Only UNAVAILABLE opens the breaker: a deadline passed while etcd elects a new raft leader is the same on
      // every member, and skipping them all would only block the keepalives that end the outage (library error class).
      host: () =>
        circuitBreaker(
          handleWhen((e) => e instanceof GRPCUnavailableError),
          { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(1) },
        ),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 2 }),
    },
    ...tls,
    ...auth,
  });
}

function readCredentials(file: string): { username: string; password: string } {
  const mode = statSync(file).mode & 0o077;
  if (mode !== 0) throw Object.assign(new Error(`store.credentialsFile ${file} must not be readable by group or others (chmod 600)`), { code: "ETCD_CONFIG" });
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw Object.assign(new Error(`store.credentialsFile ${file} is not JSON`), { code: "ETCD_CONFIG" });
  }
  const c = v as { username?: unknown; password?: unknown };
  if (typeof c.username !== "string" || typeof c.password !== "string")
    throw Object.assign(new Error(`store.credentialsFile ${file}: expected {"username": "...", "password": "..."}`), { code: "ETCD_CONFIG" });
  return { username: c.username, password: c.password };
}
