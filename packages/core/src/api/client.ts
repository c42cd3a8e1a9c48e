/** A small client of the REST API, for the CLI and tests. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    message: string,
    readonly status: number,
    /** On 503 from a standby controller: the active controller's API base URL. */
    readonly activeApi?: string,
  ) {
    super(message);
  }
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await this.requestAt<T>(this.baseUrl, method, path, body);
    } catch (err) {
      // A standby controller answers a mutation with 503 and the active's API (controller pair, issue 12): follow it once.
      const follow = err instanceof ApiError && err.status === 503 ? err.activeApi : undefined;
      if (!follow || follow.replace(/\/$/, "") === this.baseUrl) throw err;
      return this.requestAt<T>(follow.replace(/\/$/, ""), method, path, body);
    }
  }

  private async requestAt<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          accept: "application/json",
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new ApiError(
        `cannot reach the mtcAgent API at ${baseUrl}: ${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message}`,
        0,
      );
    }
    const text = await res.text();
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ApiError(`the API answered HTTP ${res.status} with something that is not JSON`, res.status);
    }
    if (!res.ok || json.status === "fail")
      throw new ApiError(
        typeof json.reason === "string" ? json.reason : `HTTP ${res.status}`,
        res.status,
        typeof json.activeApi === "string" ? json.activeApi : undefined,
      );
    return json as T;
  }
}
