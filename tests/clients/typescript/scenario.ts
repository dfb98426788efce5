// What an integrator's TypeScript code does with a client generated from
// openapi.yaml: create an app, list apps following cursors, update it,
// read a 4xx error body, delete it. Exits non-zero on any surprise.
//
// usage: node build/js/scenario.js BASE_URL TOKEN
import createClient from "openapi-fetch";
import type { paths } from "./build/schema.js";

const [baseUrl, token] = process.argv.slice(2);
if (!baseUrl || !token) throw new Error("usage: scenario.js BASE_URL TOKEN");
const client = createClient<paths>({ baseUrl, headers: { "X-API-Key": token } });

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const created = await client.POST("/v1/apps", {
  body: { name: "TypeScript app", environment: "staging", features: { push: true } },
});
check(created.response.status === 201 && created.data !== undefined, `create: ${created.response.status}`);
const app = created.data.app;
check(app.environment === "staging" && app.features.push && app.api_key.startsWith("ak_"), "create: fields");

const seen: string[] = [];
let cursor: string | undefined;
do {
  const page = await client.GET("/v1/apps", { params: { query: { limit: 1, cursor } } });
  check(page.data !== undefined, `list: ${page.response.status}`);
  seen.push(...page.data.apps.map((listed) => listed.id));
  cursor = page.data.next_cursor ?? undefined;
} while (cursor !== undefined);
check(seen.includes(app.id), "list: the new app is listed");

const updated = await client.PATCH("/v1/apps/{id}", {
  params: { path: { id: app.id } },
  body: { description: "Typed", webhook_enabled: true, webhook_url: "https://hooks.example.com/appdeck" },
});
check(updated.data?.app.description === "Typed" && updated.data.app.webhook_enabled, `update: ${updated.response.status}`);

const refused = await client.POST("/v1/apps", { body: { name: " " } });
check(refused.response.status === 400 && refused.error !== undefined, `error: ${refused.response.status}`);
check(refused.error.success === false && refused.error.code === "validation_failed", "error: body");

const deleted = await client.DELETE("/v1/apps/{id}", { params: { path: { id: app.id } } });
check(deleted.data?.success === true, `delete: ${deleted.response.status}`);
const gone = await client.GET("/v1/apps/{id}", { params: { path: { id: app.id } } });
check(gone.response.status === 404 && gone.error?.code === "not_found", `deleted: ${gone.response.status}`);

console.log("typescript client: create, list with cursors, update, 400 error body, delete: ok");
