// An integrator's program using the installed `appdeck-sdk` package alone,
// type-checked against the package's .d.ts, then run against a live server.
// Prints what it verified; exits non-zero on any surprise.
//
// usage: node scenario.js BASE_URL TOKEN
import { Appdeck, AppdeckError } from "appdeck-sdk";

const [baseUrl, token] = process.argv.slice(2);
if (!baseUrl || !token) throw new Error("usage: scenario.js BASE_URL TOKEN");

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`typescript sdk: ${message}`);
}

async function refusal(call: Promise<unknown>): Promise<AppdeckError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof AppdeckError) return error;
    throw error;
  }
  throw new Error("typescript sdk: the call succeeded");
}

/** Every request the SDK sends, each attempt on its own. */
function recordingFetch() {
  const sent: { method: string; path: string; idempotencyKey: string | null; status: number }[] = [];
  const fetch = async (request: Request) => {
    const response = await globalThis.fetch(request);
    const url = new URL(request.url);
    sent.push({
      method: request.method,
      path: url.pathname + url.search,
      idempotencyKey: request.headers.get("Idempotency-Key"),
      status: response.status,
    });
    return response;
  };
  return { fetch, sent };
}

const { fetch, sent } = recordingFetch();
const appdeck = new Appdeck({ baseUrl, token, fetch });

// Create: the SDK sent an Idempotency-Key of its own; the same key sent again by hand replays the first answer.
const { app } = await appdeck.post("/v1/apps", { body: { name: "TypeScript SDK app", environment: "staging" } });
check(app.name === "TypeScript SDK app" && app.environment === "staging", "create: fields");
const key = sent.at(-1)?.idempotencyKey;
check(typeof key === "string" && key.length > 0, "create: no Idempotency-Key was sent");
const replay = await appdeck.raw.POST("/v1/apps", {
  body: { name: "TypeScript SDK app", environment: "staging" },
  params: { header: { "Idempotency-Key": key } },
});
check(replay.response.headers.get("Idempotent-Replayed") === "true", `replay: ${replay.response.status}, not replayed`);
check(replay.data?.app.id === app.id, "replay: another app");
console.log("typescript sdk: create sent an Idempotency-Key; the same key replays the same app (Idempotent-Replayed: true)");

const { app: same } = await appdeck.get("/v1/apps/{id}", { params: { path: { id: app.id } } });
check(same.id === app.id && same.name === app.name, "get: another app");

// List with one app a page: every app, made here or not, over several pages.
const more = [];
for (const name of ["TypeScript SDK app 2", "TypeScript SDK app 3"]) {
  more.push((await appdeck.post("/v1/apps", { body: { name } })).app);
}
const pagesBefore = sent.filter((request) => request.path.startsWith("/v1/apps?")).length;
const listed: string[] = [];
for await (const each of appdeck.list("/v1/apps", { params: { query: { limit: 1 } } })) listed.push(each.id);
const pages = sent.filter((request) => request.path.startsWith("/v1/apps?")).length - pagesBefore;
const ours = [app, ...more].map((each) => each.id);
check(ours.every((id) => listed.includes(id)), "list: an app is missing");
check(new Set(listed).size === listed.length, "list: an app is listed twice");
check(pages >= 3 && pages >= listed.length, `list: ${pages} pages for ${listed.length} apps at one a page`);
console.log(`typescript sdk: get; list followed next_cursor over ${pages} pages (limit 1) and yielded all ${listed.length} apps`);

const { app: updated } = await appdeck.patch("/v1/apps/{id}", {
  params: { path: { id: app.id } },
  body: { description: "Changed through the SDK" },
});
check(updated.description === "Changed through the SDK", "update: description");

const invalid = await refusal(appdeck.post("/v1/apps", { body: { name: " " } }));
check(invalid.status === 400 && invalid.code === "validation_failed", `error: ${invalid.status} ${invalid.code}`);
check(invalid.message.length > 0 && typeof invalid.requestId === "string", "error: message or request id");
console.log(`typescript sdk: update; a blank name throws AppdeckError 400 validation_failed ("${invalid.message}", request ${invalid.requestId})`);

// A token made and revoked; the revoked token is refused.
const created = await appdeck.post("/v1/api-tokens", { body: { label: "TypeScript SDK token", role: "developer" } });
check(created.token.label === "TypeScript SDK token" && created.secret.startsWith("apps_"), "token: create");
const asNewToken = new Appdeck({ baseUrl, token: created.secret });
const { token: me } = await asNewToken.get("/v1/me");
check(me.id === created.token.id, "token: /v1/me is another token");
await appdeck.delete("/v1/api-tokens/{id}", { params: { path: { id: created.token.id } } });
const revoked = await refusal(asNewToken.get("/v1/me"));
check(revoked.status === 401, `token: revoked, yet ${revoked.status}`);
console.log("typescript sdk: a token created, used, revoked, then refused (401)");

for (const each of [app, ...more]) await appdeck.delete("/v1/apps/{id}", { params: { path: { id: each.id } } });
const gone = await refusal(appdeck.get("/v1/apps/{id}", { params: { path: { id: app.id } } }));
check(gone.status === 404 && gone.code === "not_found", `delete: then ${gone.status} ${gone.code}`);
console.log("typescript sdk: deleted apps are 404 not_found");

// 429: a token of its own spends its hourly budget, then one call waits out Retry-After.
const limited = await appdeck.post("/v1/api-tokens", { body: { label: "TypeScript SDK limited", role: "developer" } });
await spendBudget(limited.secret);
const impatient = new Appdeck({ baseUrl, token: limited.secret, waitOnRateLimit: false });
const refused = await refusal(impatient.get("/v1/me"));
check(refused.status === 429 && refused.code === "rate_limited", `429: ${refused.status} ${refused.code}`);
const patient = recordingFetch();
const started = Date.now();
const { token: limitedMe } = await new Appdeck({ baseUrl, token: limited.secret, fetch: patient.fetch }).get("/v1/me");
const waited = Date.now() - started;
check(limitedMe.id === limited.token.id, "429: /v1/me is another token");
const statuses = patient.sent.map((request) => request.status);
check(statuses[0] === 429 && statuses.at(-1) === 200, `429: statuses ${statuses.join(",")}`);
console.log(
  `typescript sdk: waitOnRateLimit false throws 429 rate_limited; by default the call got ${statuses.join(", ")} and waited ${(waited / 1000).toFixed(1)} s`,
);

/** Sends requests with the token until one is refused 429. */
async function spendBudget(spender: string): Promise<void> {
  for (let sentCount = 0; sentCount < 100_000; sentCount += 50) {
    const batch = Array.from({ length: 50 }, () =>
      globalThis.fetch(`${baseUrl}/v1/me`, { headers: { "X-API-Key": spender } }).then(async (response) => {
        await response.body?.cancel();
        return response.status;
      }),
    );
    const statuses = await Promise.all(batch);
    if (statuses.includes(429)) return;
    check(statuses.every((status) => status === 200), `spending the budget: ${statuses.join(",")}`);
  }
  throw new Error("typescript sdk: 100000 requests and no 429");
}
