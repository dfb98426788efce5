/** What every failed call throws: the status, and the `code` and `error` of appdeck's JSON error body. */
export class AppdeckError extends Error {
  /** The HTTP status of the response. */
  readonly status: number;
  /** The stable error code, such as `validation_failed`, or `unexpected_response` when the body was not appdeck's. */
  readonly code: string;
  /** The response's `X-Request-Id`, to quote when asking about a failure. */
  readonly requestId: string | undefined;

  constructor(status: number, code: string, message: string, requestId?: string) {
    super(message);
    this.name = "AppdeckError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }

  /**
   * The error for a non-2xx response whose body openapi-fetch has read:
   * parsed JSON, or the text when it was not JSON (a proxy's page, say).
   */
  static fromResponse(response: Response, body: unknown): AppdeckError {
    const requestId = response.headers.get("X-Request-Id") ?? undefined;
    if (isErrorBody(body)) return new AppdeckError(response.status, body.code, body.error, requestId);
    const text = typeof body === "string" && body !== "" ? body : `HTTP ${response.status} ${response.statusText}`;
    return new AppdeckError(response.status, "unexpected_response", text, requestId);
  }
}

function isErrorBody(body: unknown): body is { code: string; error: string } {
  if (typeof body !== "object" || body === null) return false;
  const { code, error } = body as Record<string, unknown>;
  return typeof code === "string" && typeof error === "string";
}
