// The layer's own logic, against a fake fetch: no server needed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Appdeck, AppdeckError } from "../dist/index.js";
import { retryAfterMilliseconds } from "../dist/rate-limit.js";

const app = {
  id: "0193a1b2-0000-7000-8000-000000000001",
  name: "Storefront",
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

const rateLimited = (retryAfter: string) =>
  json(429, { success: false, error: "Too many requests", code: "rate_limited" }, { "Retry-After": retryAfter });

/** A fetch that answers from a script and keeps every request it was sent, reading its body as a real one does. */
function fakeFetch(...answers: Response[]) {
  const requests: Request[] = [];
  const bodies: string[] = [];
  const fetch = async (request: Request) => {
    requests.push(request);
    bodies.push(await request.text());
    const answer = answers.shift();
    if (answer === undefined) throw new Error(`unexpected request ${request.method} ${request.url}`);
    return answer;
  };
  return { fetch, requests, bodies };
}

test("a create gets an Idempotency-Key, kept when a 429 is waited out for Retry-After seconds", async () => {
  const { fetch, requests, bodies } = fakeFetch(rateLimited("1"), json(201, { success: true, app }));
  const appdeck = new Appdeck({ baseUrl: "http://appdeck.test", token: "apps_x", fetch });
  const started = Date.now();
  const created = await appdeck.post("/v1/apps", { body: { name: "Storefront" } });
  assert.ok(Date.now() - started >= 1000, "waited Retry-After");
  assert.equal(created.app.name, "Storefront");
  assert.equal(requests.length, 2);
  const [first, second] = requests.map((request) => request.headers.get("Idempotency-Key"));
  assert.match(first ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(second, first);
  assert.deepEqual(bodies.map((body) => JSON.parse(body)), [{ name: "Storefront" }, { name: "Storefront" }]);
  assert.equal(requests[0]?.headers.get("Authorization"), "Bearer apps_x");
});

test("each create call gets its own key; the caller's key is kept; other POSTs get none", async () => {
  const { fetch, requests } = fakeFetch(
    json(201, { success: true, app }),
    json(201, { success: true, app }),
    json(201, { success: true, app }),
    json(200, { success: true, app }),
  );
  const appdeck = new Appdeck({ baseUrl: "http://appdeck.test", token: "apps_x", fetch });
  await appdeck.post("/v1/apps", { body: { name: "a" } });
  await appdeck.post("/v1/apps", { body: { name: "a" } });
  await appdeck.post("/v1/apps", { body: { name: "a" }, params: { header: { "Idempotency-Key": "mine" } } });
  await appdeck.post("/v1/apps/{id}/rotate-secret", { params: { path: { id: app.id } } });
  const keys = requests.map((request) => request.headers.get("Idempotency-Key"));
  assert.notEqual(keys[0], keys[1]);
  assert.equal(keys[2], "mine");
  assert.equal(keys[3], null);
});

test("with waitOnRateLimit false a 429 is thrown at once", async () => {
  const { fetch, requests } = fakeFetch(rateLimited("30"));
  const appdeck = new Appdeck({ baseUrl: "http://appdeck.test", token: "apps_x", fetch, waitOnRateLimit: false });
  await assert.rejects(appdeck.get("/v1/me"), (error: unknown) => {
    assert.ok(error instanceof AppdeckError);
    assert.equal(error.status, 429);
    assert.equal(error.code, "rate_limited");
    return true;
  });
  assert.equal(requests.length, 1);
});

test("after 3 retries the 429 is thrown", async () => {
  const { fetch, requests } = fakeFetch(rateLimited("0"), rateLimited("0"), rateLimited("0"), rateLimited("0"));
  const appdeck = new Appdeck({ baseUrl: "http://appdeck.test", token: "apps_x", fetch });
  await assert.rejects(appdeck.get("/v1/me"), (error: unknown) => error instanceof AppdeckError && error.status === 429);
  assert.equal(requests.length, 4);
});

test("an error carries status, code, message and request id; a body that is not appdeck's still throws", async () => {
  const { fetch } = fakeFetch(
    json(400, { success: false, error: "name must not be blank", code: "validation_failed" }, { "X-Request-Id": "req-1" }),
    new Response("<html>Bad gateway</html>", { status: 502, headers: { "Content-Type": "text/html" } }),
  );
  const appdeck = new Appdeck({ baseUrl: "http://appdeck.test", token: "apps_x", fetch });
  await assert.rejects(appdeck.post("/v1/apps", { body: { name: " " } }), (error: unknown) => {
    assert.ok(error instanceof AppdeckError && error instanceof Error);
    assert.deepEqual([error.status, error.code, error.message, error.requestId], [400, "validation_failed", "name must not be blank", "req-1"]);
    return true;
  });
  await assert.rejects(appdeck.get("/v1/me"), (error: unknown) => {
    assert.ok(error instanceof AppdeckError);
    assert.deepEqual([error.status, error.code, error.message, error.requestId], [502, "unexpected_response", "<html>Bad gateway</html>", undefined]);
    return true;
  });
});

test("list follows next_cursor until it is null and keeps the other query parameters", async () => {
  const page = (ids: string[], next: string | null) =>
    json(200, { success: true, apps: ids.map((id) => ({ ...app, id })), next_cursor: next });
  const { fetch, requests } = fakeFetch(page(["a", "b"], "c1"), page(["c"], "c2"), page([], null));
  const appdeck = new Appdeck({ baseUrl: "http://appdeck.test", token: "apps_x", fetch });
  const ids: string[] = [];
  for await (const listed of appdeck.list("/v1/apps", { params: { query: { limit: 2, environment: "staging" } } })) {
    ids.push(listed.id);
  }
  assert.deepEqual(ids, ["a", "b", "c"]);
  const queries = requests.map((request) => new URL(request.url).search);
  assert.deepEqual(queries, ["?limit=2&environment=staging", "?limit=2&environment=staging&cursor=c1", "?limit=2&environment=staging&cursor=c2"]);
});

test("Retry-After is seconds or an HTTP date", () => {
  assert.equal(retryAfterMilliseconds("7"), 7000);
  assert.equal(retryAfterMilliseconds("Thu, 01 Jan 1970 00:00:05 GMT", 2000), 3000);
  assert.equal(retryAfterMilliseconds(null), 1000);
  assert.equal(retryAfterMilliseconds("soon"), 1000);
});
