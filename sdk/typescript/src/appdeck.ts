import createClient, {
  type Client,
  type ClientPathsWithMethod,
  type MaybeOptionalInit,
  type MethodResponse,
  type Middleware,
} from "openapi-fetch";
import { AppdeckError } from "./error.js";
import { idempotentCreates } from "./generated/operations.js";
import type { paths } from "./generated/schema.js";
import { type Fetch, waitingOutRateLimits } from "./rate-limit.js";

export interface AppdeckOptions {
  /** Where the API is served, such as `https://appdeck.example.com`. */
  baseUrl: string;
  /** An organization API token (`apps_...`). */
  token: string;
  /** Send a call again after a 429 once `Retry-After` has passed, up to 3 times (default true). */
  waitOnRateLimit?: boolean;
  /** The fetch to send requests with (default: the global fetch). */
  fetch?: Fetch;
}

type RawClient = Client<paths, "application/json">;
type Method = "get" | "post" | "patch" | "delete";
type PathsWith<M extends Method> = ClientPathsWithMethod<RawClient, M>;
type InitFor<P extends keyof paths, M extends Method> = MaybeOptionalInit<paths[P], M>;
/** The success body of one operation. */
export type Success<M extends Method, P extends PathsWith<M>, Init = object> = MethodResponse<RawClient, M, P, Init>;

// As openapi-fetch's own methods do: the init argument may be left out when
// nothing in it is required (a path parameter or a body makes it required).
type RequiredKeysOf<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type InitParam<Init> =
  RequiredKeysOf<Init> extends never ? [(Init & { [key: string]: unknown })?] : [Init & { [key: string]: unknown }];

/** The GET paths whose answer is a page with a `next_cursor`. */
type ListPath = {
  [P in PathsWith<"get">]: "next_cursor" extends keyof Success<"get", P> ? P : never;
}[PathsWith<"get">];
/** The item type of a page's one array field. */
type ItemOf<Page> = { [K in keyof Page]: Page[K] extends readonly (infer Item)[] ? Item : never }[keyof Page];

type Sent = { data?: unknown; error?: unknown; response: Response };
type UntypedInit = { params?: { query?: Record<string, unknown> } } & Record<string, unknown>;

/**
 * The appdeck API over openapi-fetch's typed client. Each call resolves to
 * the success body and throws `AppdeckError` on any other status; creates
 * carry an `Idempotency-Key`; a 429 is waited out (unless told not to).
 */
export class Appdeck {
  /** The underlying openapi-fetch client, with the same headers, keys and waits. */
  readonly raw: RawClient;

  constructor(options: AppdeckOptions) {
    const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
    this.raw = createClient<paths, "application/json">({
      baseUrl: options.baseUrl,
      headers: { Authorization: `Bearer ${options.token}` },
      fetch: (options.waitOnRateLimit ?? true) ? waitingOutRateLimits(send) : send,
    });
    this.raw.use(idempotencyKeys);
  }

  get<P extends PathsWith<"get">, I extends InitFor<P, "get">>(path: P, ...init: InitParam<I>): Promise<Success<"get", P, I>> {
    return this.send("get", path, init[0]) as Promise<Success<"get", P, I>>;
  }

  post<P extends PathsWith<"post">, I extends InitFor<P, "post">>(path: P, ...init: InitParam<I>): Promise<Success<"post", P, I>> {
    return this.send("post", path, init[0]) as Promise<Success<"post", P, I>>;
  }

  patch<P extends PathsWith<"patch">, I extends InitFor<P, "patch">>(
    path: P,
    ...init: InitParam<I>
  ): Promise<Success<"patch", P, I>> {
    return this.send("patch", path, init[0]) as Promise<Success<"patch", P, I>>;
  }

  delete<P extends PathsWith<"delete">, I extends InitFor<P, "delete">>(
    path: P,
    ...init: InitParam<I>
  ): Promise<Success<"delete", P, I>> {
    return this.send("delete", path, init[0]) as Promise<Success<"delete", P, I>>;
  }

  /** Every item of a list, page after page, following `next_cursor` from the given `cursor` (or the start). */
  async *list<P extends ListPath, I extends InitFor<P, "get">>(
    path: P,
    ...init: InitParam<I>
  ): AsyncGenerator<ItemOf<Success<"get", P, I>>, void, undefined> {
    const first = init[0] as UntypedInit | undefined;
    let cursor = first?.params?.query?.cursor;
    do {
      const query = { ...first?.params?.query, cursor };
      const page = await this.send("get", path, { ...first, params: { ...first?.params, query } });
      yield* itemsOf(page) as ItemOf<Success<"get", P, I>>[];
      cursor = (page as { next_cursor?: string | null }).next_cursor ?? undefined;
    } while (cursor);
  }

  private async send(method: Method, path: string, init: unknown): Promise<unknown> {
    // The typed signatures above are the checked surface; here the call is passed through as it is.
    const untyped = this.raw as unknown as { request(method: Method, path: string, init: unknown): Promise<Sent> };
    const { data, error, response } = await untyped.request(method, path, init);
    if (!response.ok) throw AppdeckError.fromResponse(response, error);
    return data;
  }
}

/** A random key on every create the caller sent without one; the rate-limit retries reuse the same request. */
const idempotencyKeys: Middleware = {
  onRequest({ request, schemaPath }) {
    if (request.method === "POST" && idempotentCreates.has(schemaPath) && !request.headers.has("Idempotency-Key")) {
      request.headers.set("Idempotency-Key", crypto.randomUUID());
    }
  },
};

/** A list page has one array field (`apps`, `tokens`, ...) beside `next_cursor`. */
function itemsOf(page: unknown): unknown[] {
  const arrays = Object.values(page as object).filter(Array.isArray);
  if (arrays.length !== 1) throw new Error(`a list page has one array field, this one has ${arrays.length}`);
  return arrays[0] as unknown[];
}
