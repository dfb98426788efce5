// The compatibility scenario in TypeScript: what an integrator's code
// written against the oldest released spec's client (openapi-typescript
// types + openapi-fetch) does, run against the current server. Every
// response body is checked against the released spec by `strict.ts`, since
// the types alone check nothing at run time. Each step prints `step ID ok`
// or `step ID failed: REASON`, and the steps after a failed one still run,
// so that `cargo xtask compat` can judge every step.
//
// usage: node build/js/scenario.js SPEC_JSON BASE_URL TOKEN
import createClient from "openapi-fetch";
import type { components, paths } from "./build/schema.js";
import { Spec } from "./strict.js";

type App = components["schemas"]["App"];

const [specPath, baseUrl, token] = process.argv.slice(2);
if (!specPath || !baseUrl || !token) throw new Error("usage: scenario.js SPEC_JSON BASE_URL TOKEN");
const client = createClient<paths>({ baseUrl, headers: { "X-API-Key": token } });
const spec = new Spec(specPath);

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The body of an openapi-fetch result, once the released spec's schema for its status accepts it. */
function decoded<T, E>(
  method: string,
  path: string,
  result: { data?: T; error?: E; response: Response },
): { status: number; data?: T; error?: E } {
  const body = result.data !== undefined ? result.data : result.error;
  const problems = spec.problems(method, path, result.response.status, body);
  check(problems.length === 0, problems.join("; "));
  return { status: result.response.status, data: result.data, error: result.error };
}

async function step<T>(id: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    const value = await run();
    console.log(`step ${id} ok`);
    return value;
  } catch (error) {
    console.log(`step ${id} failed: ${String(error instanceof Error ? error.message : error).replace(/\n/g, " ")}`);
    return undefined;
  }
}

function needs<T>(value: T | undefined): T {
  check(value !== undefined, "the step it needs failed");
  return value;
}

await step("identity", async () => {
  const me = decoded("GET", "/v1/me", await client.GET("/v1/me"));
  check(me.data?.token.role === "admin" && me.data.token.status === "active", "the token is an active admin token");
});

await step("organization-get", async () => {
  const got = decoded("GET", "/v1/organization", await client.GET("/v1/organization"));
  check(got.data !== undefined && got.data.organization.rate_limit_per_hour > 0, `the organization: ${got.status}`);
});

await step("organization-update", async () => {
  const updated = decoded(
    "PATCH",
    "/v1/organization",
    await client.PATCH("/v1/organization", { body: { name: "Compatibility Inc." } }),
  );
  check(updated.data?.organization.name === "Compatibility Inc.", `the new name: ${updated.status}`);
});

const apps = await step("app-create", async (): Promise<[App, App]> => {
  const created = decoded(
    "POST",
    "/v1/apps",
    await client.POST("/v1/apps", { body: { name: "TypeScript app", environment: "staging", features: { push: true } } }),
  );
  check(created.status === 201 && created.data !== undefined, `201 Created: ${created.status}`);
  const first = created.data.app;
  check(first.environment === "staging" && first.features.push && first.status === "active", "the created app's fields");
  const second = decoded("POST", "/v1/apps", await client.POST("/v1/apps", { body: { name: "Second TypeScript app" } }));
  check(second.data !== undefined, `the second app: ${second.status}`);
  return [first, second.data.app];
});

await step("app-get", async () => {
  const [first] = needs(apps);
  const got = decoded("GET", "/v1/apps/{id}", await client.GET("/v1/apps/{id}", { params: { path: { id: first.id } } }));
  check(got.data?.app.id === first.id, `the same app: ${got.status}`);
});

await step("app-list-cursors", async () => {
  const [first, second] = needs(apps);
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = decoded("GET", "/v1/apps", await client.GET("/v1/apps", { params: { query: { limit: 1, cursor } } }));
    check(page.data !== undefined, `a page: ${page.status}`);
    seen.push(...page.data.apps.map((listed) => listed.id));
    cursor = page.data.next_cursor ?? undefined;
    check(seen.length <= 10, "more pages than apps");
  } while (cursor !== undefined);
  check(seen.join() === [first.id, second.id].join(), "both apps, oldest first, one per page");
});

await step("app-update", async () => {
  const [first] = needs(apps);
  const updated = decoded(
    "PATCH",
    "/v1/apps/{id}",
    await client.PATCH("/v1/apps/{id}", {
      params: { path: { id: first.id } },
      body: { description: "Typed", webhook_enabled: true, webhook_url: "https://hooks.example.com/appdeck" },
    }),
  );
  check(updated.data?.app.description === "Typed" && updated.data.app.webhook_enabled, `updated: ${updated.status}`);
});

await step("app-rotate-secret", async () => {
  const [first] = needs(apps);
  const rotated = decoded(
    "POST",
    "/v1/apps/{id}/rotate-secret",
    await client.POST("/v1/apps/{id}/rotate-secret", { params: { path: { id: first.id } } }),
  );
  check(rotated.data !== undefined && rotated.data.app.api_secret !== first.api_secret, `a new secret: ${rotated.status}`);
});

await step("error-body", async () => {
  const refused = decoded("POST", "/v1/apps", await client.POST("/v1/apps", { body: { name: " " } }));
  check(refused.status === 400 && refused.error !== undefined, `400: ${refused.status}`);
  check(refused.error.success === false && refused.error.code === "validation_failed", "the error body");
});

await step("app-delete", async () => {
  const [first] = needs(apps);
  const path = { params: { path: { id: first.id } } };
  const deleted = decoded("DELETE", "/v1/apps/{id}", await client.DELETE("/v1/apps/{id}", path));
  check(deleted.data?.success === true, `deleted: ${deleted.status}`);
  const gone = decoded("GET", "/v1/apps/{id}", await client.GET("/v1/apps/{id}", path));
  check(gone.status === 404 && gone.error?.code === "not_found", `404 not_found after the delete: ${gone.status}`);
});
