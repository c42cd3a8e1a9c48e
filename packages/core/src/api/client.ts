/** A small client of the REST API, for the CLI and tests. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    message: string,
    readonly status: number,
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
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
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
        `cannot reach the mtcAgent API at ${this.baseUrl}: ${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message}`,
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
    if (!res.ok || json.status === "fail") throw new ApiError(typeof json.reason === "string" ? json.reason : `HTTP ${res.status}`, res.status);
    return json as T;
  }
}
