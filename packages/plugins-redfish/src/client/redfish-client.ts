import { readFileSync } from "node:fs";
import { BmcError, type Clock, isBmcError, type Logger, type Secret } from "@metal/core/plugin-api";
import { Agent, request, errors as undiciErrors } from "undici";

export type AuthMode = "auto" | "session" | "basic";

export interface RedfishClientOptions {
  /** e.g. https://10.0.0.5 or http://127.0.0.1:8000 */
  baseUrl: string;
  username: string;
  password: Secret;
  host: string;
  clock: Clock;
  logger?: Logger;
  /** Session first, basic as the fallback (Ironic's auth_type=auto). */
  authMode?: AuthMode;
  /** TLS verification is on unless this is true. */
  insecure?: boolean;
  caFile?: string;
  /** Bound for one HTTP exchange. */
  requestTimeoutMs?: number;
  /** Attempts for 409/503/connection faults, with exponential backoff. */
  retries?: number;
  backoffMs?: number;
}

export interface RedfishResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export interface RequestOptions {
  body?: unknown;
  /** Statuses returned to the caller instead of thrown (the power code reads 409 itself). */
  accept?: readonly number[];
  /** Retry on 409 (default true); power actions turn it off to tell "already in state" apart. */
  retryConflict?: boolean;
  /** Extra request headers (e.g. If-Match). */
  headers?: Record<string, string>;
}

/** The Base registry id in a Redfish error body, e.g. "SessionLimitExceeded". */
export function messageIdOf(body: Record<string, unknown>): string {
  const err = body.error as { code?: unknown; "@Message.ExtendedInfo"?: Array<{ MessageId?: unknown }> } | undefined;
  const id = String(err?.["@Message.ExtendedInfo"]?.[0]?.MessageId ?? err?.code ?? "");
  return id.split(".").pop() ?? "";
}

function errorMessage(body: Record<string, unknown>): string {
  const err = body.error as { message?: unknown } | undefined;
  return typeof err?.message === "string" ? err.message : "";
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;

const NETWORK_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

/**
 * One authenticated conversation with one BMC: a session (or basic auth), re-login on 401, proactive
 * re-login before `SessionTimeout`, bounded retries with backoff on 409/503/connection faults, and a
 * logout that always runs (peers.md 5.1-5.3: leaked and expired sessions are the top Redfish pain).
 */
export class RedfishClient {
  private readonly agent: Agent;
  private readonly mode: AuthMode;
  private session: { token: string; location: string; lastUsed: number; timeoutMs: number } | undefined;
  /** auto mode fell back to basic (no SessionService, or no free session slot). */
  private useBasic: boolean;
  private loginInFlight: Promise<void> | undefined;
  private closed = false;
  /** Counters for the broker's metrics and for tests. */
  readonly stats = { requests: 0, logins: 0, logouts: 0, reauths: 0, retries: 0 };

  constructor(private readonly o: RedfishClientOptions) {
    this.mode = o.authMode ?? "auto";
    this.useBasic = this.mode === "basic";
    this.agent = new Agent({
      connect: { rejectUnauthorized: !o.insecure, ...(o.caFile ? { ca: readFileSync(o.caFile) } : {}) },
      keepAliveTimeout: 30_000,
      connections: 4,
    });
  }

  get authMethod(): "session" | "basic" | "none" {
    return this.session ? "session" : this.useBasic ? "basic" : "none";
  }

  private url(path: string): string {
    return new URL(path, this.o.baseUrl).toString();
  }

  /** One HTTP exchange, no auth logic, no retries; network faults become BmcErrors. */
  private async exchange(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<RedfishResponse> {
    this.stats.requests++;
    const timeout = this.o.requestTimeoutMs ?? 30_000;
    try {
      const res = await request(this.url(path), {
        method: method as "GET",
        headers: { Accept: "application/json", ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        dispatcher: this.agent,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
      });
      // A hostile or broken BMC must not make us buffer without bound.
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
          res.body.destroy();
          throw new BmcError("protocol", `${method} ${path}: the BMC answered with more than ${MAX_BODY_BYTES} bytes`, this.o.host);
        }
        chunks.push(chunk as Buffer);
      }
      const text = Buffer.concat(chunks).toString("utf8");
      let parsed: Record<string, unknown> = {};
      if (text.length > 0) {
        try {
          const v = JSON.parse(text) as unknown;
          if (typeof v === "object" && v !== null && !Array.isArray(v)) parsed = v as Record<string, unknown>;
        } catch {
          if (res.statusCode < 300) throw new BmcError("protocol", `${method} ${path}: the BMC answered with non-JSON`, this.o.host);
        }
      }
      const hdrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) hdrs[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : String(v);
      return { status: res.statusCode, headers: hdrs, body: parsed };
    } catch (err) {
      throw this.classify(err, method, path);
    }
  }

  private classify(err: unknown, method: string, path: string): BmcError {
    if (isBmcError(err)) return err;
    const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
    const code = e.code ?? e.cause?.code ?? "";
    const where = `${this.o.baseUrl}${path}`;
    if (
      e.name === "TimeoutError" ||
      e.name === "AbortError" ||
      err instanceof undiciErrors.HeadersTimeoutError ||
      err instanceof undiciErrors.BodyTimeoutError
    ) {
      return new BmcError("timeout", `${method} ${where}: no answer within ${this.o.requestTimeoutMs ?? 30_000} ms`, this.o.host);
    }
    if (NETWORK_CODES.has(code)) return new BmcError("unreachable", `${where}: ${code}`, this.o.host);
    // A plain-HTTP service answering a TLS hello: no CA or --insecure helps, the scheme is wrong.
    if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || /wrong version number/i.test(e.message ?? "")) {
      return new BmcError("protocol", `${where}: the BMC answers plain HTTP, not TLS; use --scheme http if that is intended`, this.o.host);
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL|ERR_SSL/i.test(code) || /certificate/i.test(e.message ?? "")) {
      return new BmcError(
        "protocol",
        `${where}: TLS verification failed (${code || e.message}); pass the BMC's CA with --ca <file> or skip verification with --insecure`,
        this.o.host,
      );
    }
    return new BmcError("unreachable", `${where}: ${e.message ?? String(err)}`, this.o.host);
  }

  private basicHeader(): string {
    return `Basic ${Buffer.from(`${this.o.username}:${this.o.password.reveal()}`).toString("base64")}`;
  }

  private async login(): Promise<void> {
    if (!this.loginInFlight) {
      this.loginInFlight = this.doLogin().finally(() => {
        this.loginInFlight = undefined;
      });
    }
    return this.loginInFlight;
  }

  private async doLogin(): Promise<void> {
    const root = await this.exchange("GET", "/redfish/v1/", {});
    const sessionsPath = (root.body.Links as { Sessions?: { "@odata.id"?: string } } | undefined)?.Sessions?.["@odata.id"];
    if (!sessionsPath) {
      if (this.mode === "session") throw new BmcError("unsupported", "the BMC has no SessionService and auth mode is 'session'", this.o.host);
      this.useBasic = true;
      return;
    }
    const res = await this.exchange("POST", sessionsPath, {}, { UserName: this.o.username, Password: this.o.password.reveal() });
    if (res.status === 401 || res.status === 403)
      throw new BmcError("auth", `BMC ${this.o.baseUrl} rejected the credentials for '${this.o.username}'`, this.o.host);
    const token = res.headers["x-auth-token"];
    if (res.status >= 300 || !token) {
      const why = messageIdOf(res.body) || `HTTP ${res.status}`;
      // No free session slot, or sessions not implemented: basic auth still works (peers.md 5.2).
      if (this.mode === "auto") {
        this.o.logger?.warn({ host: this.o.host, why }, "redfish session login failed; falling back to basic auth");
        this.useBasic = true;
        return;
      }
      throw new BmcError(res.status === 503 ? "busy" : "protocol", `session login failed: ${why} ${errorMessage(res.body)}`.trim(), this.o.host);
    }
    this.stats.logins++;
    let timeoutMs = 30 * 60_000;
    const ss = await this.exchange("GET", "/redfish/v1/SessionService", { "X-Auth-Token": token });
    if (ss.status === 200 && typeof ss.body.SessionTimeout === "number" && ss.body.SessionTimeout > 0) timeoutMs = ss.body.SessionTimeout * 1000;
    const location = res.headers.location ?? `${sessionsPath}/${String(res.body.Id ?? "")}`;
    this.session = { token, location: new URL(location, this.o.baseUrl).pathname, lastUsed: this.o.clock.now(), timeoutMs };
  }

  private async authHeaders(): Promise<Record<string, string>> {
    if (this.closed) throw new BmcError("protocol", "the Redfish client is closed", this.o.host);
    if (this.session) {
      // Honour SessionTimeout: an idle session the BMC already dropped costs a 401 round trip; renew first.
      const idle = this.o.clock.now() - this.session.lastUsed;
      if (idle >= this.session.timeoutMs * 0.9) {
        this.session = undefined;
        await this.login();
      }
    } else if (!this.useBasic) {
      await this.login();
    }
    if (this.session) {
      this.session.lastUsed = this.o.clock.now();
      return { "X-Auth-Token": this.session.token };
    }
    return { Authorization: this.basicHeader() };
  }

  /**
   * An authenticated request. 2xx (and `accept`ed statuses) come back; everything else becomes a BmcError
   * with a code the caller can act on. 409/503/connection faults are retried with backoff.
   */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<RedfishResponse> {
    const attempts = Math.max(1, this.o.retries ?? 4);
    let reauthed = false;
    let preconditioned = false;
    const extra: Record<string, string> = { ...opts.headers };
    let last: BmcError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await this.o.clock.sleep((this.o.backoffMs ?? 500) * 2 ** (attempt - 1));
      }
      let res: RedfishResponse;
      try {
        res = await this.exchange(method, path, { ...(await this.authHeaders()), ...extra }, opts.body);
      } catch (err) {
        last = err as BmcError;
        if (last.code === "unreachable" || last.code === "busy") continue;
        throw last;
      }
      if (res.status === 401 && !reauthed && this.session) {
        // The BMC flushed our session (reset, expiry): log in again once and repeat the request.
        this.stats.reauths++;
        reauthed = true;
        this.session = undefined;
        attempt--;
        continue;
      }
      if ((res.status === 428 || (res.status === 412 && extra["If-Match"])) && !preconditioned && (method === "PATCH" || method === "PUT")) {
        // 428 Precondition Required: this BMC wants the resource's ETag in If-Match (a stale one gets 412).
        // Read it and send the change once more (peers.md 5.11; DSP0266 "ETags").
        preconditioned = true;
        const cur = await this.exchange("GET", path, await this.authHeaders());
        const etag = cur.headers.etag;
        if (cur.status === 200 && etag) {
          extra["If-Match"] = etag;
          attempt--;
          continue;
        }
      }
      if ((res.status >= 200 && res.status < 300) || opts.accept?.includes(res.status)) return res;
      const detail = `${method} ${path}: HTTP ${res.status} ${messageIdOf(res.body)} ${errorMessage(res.body)}`.trim();
      if (res.status === 401 || res.status === 403)
        throw new BmcError("auth", `BMC ${this.o.baseUrl} rejected the credentials for '${this.o.username}' (${detail})`, this.o.host);
      if (res.status === 503 || (res.status === 409 && opts.retryConflict !== false)) {
        last = new BmcError(res.status === 503 ? "busy" : "conflict", detail, this.o.host);
        continue;
      }
      if (res.status === 409) throw new BmcError("conflict", detail, this.o.host);
      if (res.status === 404 || res.status === 405 || res.status === 501) throw new BmcError("unsupported", detail, this.o.host);
      throw new BmcError("protocol", detail, this.o.host);
    }
    throw last ?? new BmcError("protocol", `${method} ${path}: no attempt made`, this.o.host);
  }

  /**
   * An authenticated GET whose body stays open (Server-Sent Events): the chunks as they arrive. No body
   * timeout; `abort()` ends it. A 401 logs in again once; other non-2xx statuses become BmcErrors.
   */
  async stream(path: string): Promise<{ chunks: AsyncIterable<Buffer>; abort: () => void }> {
    const timeout = this.o.requestTimeoutMs ?? 30_000;
    for (let attempt = 0; attempt < 2; attempt++) {
      const controller = new AbortController();
      this.stats.requests++;
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(this.url(path), {
          method: "GET",
          headers: { Accept: "text/event-stream", ...(await this.authHeaders()) },
          dispatcher: this.agent,
          headersTimeout: timeout,
          bodyTimeout: 0,
          signal: controller.signal,
        });
      } catch (err) {
        throw this.classify(err, "GET", path);
      }
      if (res.statusCode === 401 && this.session && attempt === 0) {
        await res.body.dump().catch(() => {});
        this.session = undefined;
        this.stats.reauths++;
        continue;
      }
      if (res.statusCode >= 300) {
        await res.body.dump().catch(() => {});
        const code = res.statusCode === 401 || res.statusCode === 403 ? "auth" : res.statusCode === 404 || res.statusCode === 405 ? "unsupported" : "protocol";
        throw new BmcError(code, `GET ${path}: HTTP ${res.statusCode}`, this.o.host);
      }
      return { chunks: res.body as AsyncIterable<Buffer>, abort: () => controller.abort() };
    }
    throw new BmcError("auth", `GET ${path}: the BMC refused the renewed session`, this.o.host);
  }

  async get(path: string): Promise<Record<string, unknown>> {
    return (await this.call("GET", path)).body;
  }

  /** GET without credentials (service root), for protocol learning and liveness. */
  async getUnauthenticated(path: string): Promise<RedfishResponse> {
    return this.exchange("GET", path, {});
  }

  /** Log out (DELETE the session) and drop the connection pool. Runs once; later calls are no-ops. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const s = this.session;
    this.session = undefined;
    if (s) {
      try {
        await this.exchange("DELETE", s.location, { "X-Auth-Token": s.token });
        this.stats.logouts++;
      } catch (err) {
        this.o.logger?.debug({ host: this.o.host, err: (err as Error).message }, "redfish logout failed");
      }
    }
    await this.agent.close().catch(() => {});
  }
}
