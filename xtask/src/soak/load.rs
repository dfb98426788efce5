//! The mixed load: workers that read, list, create, update and delete apps
//! and create and revoke tokens, each keeping a ledger of what the server
//! acknowledged, and the read-back that checks every acknowledged write.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};

use super::verdict::{Event, Outcome, Source};

/// Every request of the run, timed from one start.
pub struct Recorder {
    start: Instant,
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    pub fn new(start: Instant) -> Self {
        Self { start, events: Mutex::new(Vec::new()) }
    }

    pub fn since_start(&self) -> Duration {
        self.start.elapsed()
    }

    /// Sends the request, records how it ended, and returns the status and
    /// the body as JSON (when it is JSON).
    pub async fn send(&self, source: Source, request: RequestBuilder) -> (Outcome, Option<Value>) {
        let started = self.since_start();
        let (outcome, body, retry_after) = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok()?.parse().ok())
                    .map(Duration::from_secs);
                let body = response.bytes().await.ok().and_then(|bytes| serde_json::from_slice(&bytes).ok());
                (Outcome::Status(status), body, retry_after)
            }
            Err(_) => (Outcome::NoAnswer, None, None),
        };
        let event = Event { source, started, finished: self.since_start(), outcome };
        self.events.lock().expect("the event log is not poisoned").push(event);
        // The load and the read-back wait as a 429 says (at most 5 s here,
        // so the soak still ends on time), as well-behaved clients do;
        // hostile clients ask again regardless.
        if outcome == Outcome::Status(429) && matches!(source, Source::Load | Source::Verify) {
            tokio::time::sleep(retry_after.unwrap_or(Duration::from_secs(1)).min(Duration::from_secs(5))).await;
        }
        (outcome, body)
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().expect("the event log is not poisoned").clone()
    }
}

/// Whether the server acknowledged a deletion or revocation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Removal {
    NotAsked,
    /// Asked, with no acknowledgement: it may or may not have happened.
    Uncertain,
    Acknowledged,
}

struct TrackedApp {
    id: String,
    /// The description of the last acknowledged write.
    acknowledged: String,
    /// Descriptions sent without an acknowledgement: each may have been written.
    unacknowledged: Vec<String>,
    removal: Removal,
}

struct TrackedToken {
    id: String,
    secret: String,
    revocation: Removal,
}

/// What one worker had acknowledged.
#[derive(Default)]
pub struct Ledger {
    apps: Vec<TrackedApp>,
    tokens: Vec<TrackedToken>,
}

/// The shared parts every worker uses.
pub struct Target {
    pub client: Client,
    pub base_url: String,
    pub admin_token: String,
    pub recorder: Arc<Recorder>,
}

impl Target {
    pub fn request(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base_url)).header("X-API-Key", token)
    }
}

/// A small xorshift generator: the load needs varied choices, not secure ones.
pub struct Random(u64);

impl Random {
    pub fn new(stream: u64) -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |now| now.as_nanos());
        Self((nanos as u64 ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    pub fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

/// Live tokens a worker keeps at most; past it, a token change revokes one.
const TOKENS_PER_WORKER: usize = 3;

/// Runs one worker until `stop`; returns its ledger.
pub async fn worker(target: Arc<Target>, number: usize, stop: Arc<AtomicBool>) -> Ledger {
    let mut ledger = Ledger::default();
    let mut live_apps: Vec<usize> = Vec::new();
    let mut random = Random::new(number as u64);
    let mut sequence = 0u64;
    let admin = target.admin_token.as_str();
    while !stop.load(Ordering::Relaxed) {
        sequence += 1;
        let choice = random.below(100);
        let app = (!live_apps.is_empty()).then(|| random.below(live_apps.len()));
        match (choice, app) {
            (0..30, Some(slot)) => {
                let path = format!("/v1/apps/{}", ledger.apps[live_apps[slot]].id);
                target.recorder.send(Source::Load, target.request(Method::GET, &path, admin)).await;
            }
            (30..45, _) => {
                let request = target.request(Method::GET, "/v1/apps?limit=50", admin);
                target.recorder.send(Source::Load, request).await;
            }
            (65..85, Some(slot)) => {
                let app = &mut ledger.apps[live_apps[slot]];
                let description = format!("worker {number} update {sequence}");
                let request = target
                    .request(Method::PATCH, &format!("/v1/apps/{}", app.id), admin)
                    .json(&json!({ "description": description }));
                match target.recorder.send(Source::Load, request).await {
                    (Outcome::Status(200..=299), _) => app.acknowledged = description,
                    _ => app.unacknowledged.push(description),
                }
            }
            (85..95, Some(slot)) => {
                let app = &mut ledger.apps[live_apps.swap_remove(slot)];
                let request = target.request(Method::DELETE, &format!("/v1/apps/{}", app.id), admin);
                app.removal = match target.recorder.send(Source::Load, request).await {
                    (Outcome::Status(200..=299), _) => Removal::Acknowledged,
                    _ => Removal::Uncertain,
                };
            }
            (95.., _) => change_token(&target, &mut ledger, &mut random, number, sequence).await,
            _ => {
                let description = format!("worker {number} create {sequence}");
                let request = target
                    .request(Method::POST, "/v1/apps", admin)
                    .json(&json!({ "name": format!("soak {number}-{sequence}"), "description": description }));
                if let (Outcome::Status(201), Some(body)) = target.recorder.send(Source::Load, request).await
                    && let Some(id) = body["app"]["id"].as_str()
                {
                    live_apps.push(ledger.apps.len());
                    ledger.apps.push(TrackedApp {
                        id: id.to_owned(),
                        acknowledged: description,
                        unacknowledged: Vec::new(),
                        removal: Removal::NotAsked,
                    });
                }
            }
        }
    }
    ledger
}

/// Creates a `ci` token and uses it at once, or revokes one once the
/// worker holds enough.
async fn change_token(target: &Target, ledger: &mut Ledger, random: &mut Random, number: usize, sequence: u64) {
    let live: Vec<usize> =
        (0..ledger.tokens.len()).filter(|&index| ledger.tokens[index].revocation == Removal::NotAsked).collect();
    let admin = target.admin_token.as_str();
    if live.len() < TOKENS_PER_WORKER {
        let request = target
            .request(Method::POST, "/v1/api-tokens", admin)
            .json(&json!({ "label": format!("soak {number}-{sequence}"), "role": "ci" }));
        if let (Outcome::Status(201), Some(body)) = target.recorder.send(Source::Load, request).await
            && let (Some(id), Some(secret)) = (body["token"]["id"].as_str(), body["secret"].as_str())
        {
            ledger.tokens.push(TrackedToken {
                id: id.to_owned(),
                secret: secret.to_owned(),
                revocation: Removal::NotAsked,
            });
            target.recorder.send(Source::Load, target.request(Method::GET, "/v1/me", secret)).await;
        }
        return;
    }
    let token = &mut ledger.tokens[live[random.below(live.len())]];
    let request = target.request(Method::DELETE, &format!("/v1/api-tokens/{}", token.id), admin);
    token.revocation = match target.recorder.send(Source::Load, request).await {
        (Outcome::Status(200..=299), _) => Removal::Acknowledged,
        _ => Removal::Uncertain,
    };
}

/// How long the read-back retries one request the server does not answer
/// yet (429 with its `Retry-After`, 503, or no answer).
const READ_BACK_PATIENCE: Duration = Duration::from_secs(180);

/// Sends a read-back request until it gets an answer that is not 429, 503
/// or no answer, or [`READ_BACK_PATIENCE`] has passed.
async fn read_back(target: &Target, path: &str, token: &str) -> (Outcome, Option<Value>) {
    let started = Instant::now();
    loop {
        let answer = target.recorder.send(Source::Verify, target.request(Method::GET, path, token)).await;
        let retry = matches!(answer.0, Outcome::Status(429 | 503) | Outcome::NoAnswer);
        if !retry || started.elapsed() > READ_BACK_PATIENCE {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Revoked tokens checked by using them: each is an authentication failure,
/// which the server limits per client address.
const REVOKED_TOKENS_CHECKED: usize = 10;

/// Reads back every acknowledged write of every ledger. Returns how many
/// were checked and a line for each that is missing or wrong.
pub async fn verify(target: &Target, ledgers: &[Ledger]) -> Result<(usize, Vec<String>), String> {
    let listed = list_all(target).await?;
    let (mut checked, mut lost) = (0, Vec::new());
    for app in ledgers.iter().flat_map(|ledger| &ledger.apps) {
        checked += 1;
        let possible = |description: &String| {
            *description == app.acknowledged || app.unacknowledged.iter().any(|sent| sent == description)
        };
        match (app.removal, listed.get(&app.id)) {
            (Removal::Acknowledged, Some(_)) => {
                lost.push(format!("app {} was deleted (acknowledged) but is listed", app.id))
            }
            (Removal::Acknowledged, None) | (Removal::Uncertain, None) => {}
            (Removal::NotAsked, None) => lost.push(format!("app {} (created, acknowledged) is missing", app.id)),
            (_, Some(description)) if !possible(description) => lost.push(format!(
                "app {} reads {description:?}; the last acknowledged write was {:?}",
                app.id, app.acknowledged
            )),
            (_, Some(_)) => {}
        }
    }
    let tokens = ledgers.iter().flat_map(|ledger| &ledger.tokens);
    let revoked = tokens.clone().filter(|token| token.revocation == Removal::Acknowledged);
    for token in tokens.clone().filter(|token| token.revocation == Removal::NotAsked) {
        checked += 1;
        let (outcome, _) = read_back(target, "/v1/me", &token.secret).await;
        if outcome != Outcome::Status(200) {
            lost.push(format!("a token created (acknowledged) gets {outcome:?} on GET /v1/me"));
        }
    }
    for token in revoked.take(REVOKED_TOKENS_CHECKED) {
        checked += 1;
        let (outcome, _) = read_back(target, "/v1/me", &token.secret).await;
        if outcome != Outcome::Status(401) {
            lost.push(format!("a token revoked (acknowledged) gets {outcome:?} on GET /v1/me, not 401"));
        }
    }
    Ok((checked, lost))
}

/// Every app of the organization, id to description, page by page.
async fn list_all(target: &Target) -> Result<HashMap<String, String>, String> {
    let (mut apps, mut cursor) = (HashMap::new(), String::new());
    loop {
        let path = format!("/v1/apps?limit=100&cursor={cursor}");
        let (outcome, body) = read_back(target, &path, &target.admin_token).await;
        let body = match (outcome, body) {
            (Outcome::Status(200), Some(body)) => body,
            (outcome, _) => return Err(format!("read-back: GET {path} answered {outcome:?}")),
        };
        for app in body["apps"].as_array().into_iter().flatten() {
            let id = app["id"].as_str().unwrap_or_default().to_owned();
            apps.insert(id, app["description"].as_str().unwrap_or_default().to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return Ok(apps),
        }
    }
}
