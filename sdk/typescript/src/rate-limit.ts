/** A fetch that openapi-fetch calls with the request it built. */
export type Fetch = (request: Request) => Promise<Response>;

/** How many times one call is sent again after a 429 before the 429 is thrown. */
export const RATE_LIMIT_RETRIES = 3;

/**
 * Sends each request again after a 429, once its `Retry-After` has passed.
 * Every attempt is a clone of the one request, so its body and headers (the
 * `Idempotency-Key` of a create among them) are the same each time.
 */
export function waitingOutRateLimits(send: Fetch): Fetch {
  return async (request) => {
    for (let attempt = 0; ; attempt++) {
      const response = await send(request.clone());
      if (response.status !== 429 || attempt === RATE_LIMIT_RETRIES) return response;
      await response.body?.cancel();
      await sleep(retryAfterMilliseconds(response.headers.get("Retry-After")));
    }
  };
}

/** `Retry-After` is whole seconds from appdeck; an HTTP date (allowed by HTTP) or nothing waits a second. */
export function retryAfterMilliseconds(value: string | null, now: number = Date.now()): number {
  if (value === null) return 1000;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? 1000 : Math.max(0, at - now);
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
