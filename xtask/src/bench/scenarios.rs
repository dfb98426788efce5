//! What is measured: the organization the main scenarios use, the main
//! table (the ceiling and appdeck's four operations), and list scaling.

use std::{net::SocketAddr, path::Path, time::Instant};

use super::{
    database::Database,
    http,
    process::{self, RssSampler, Server},
    report::{Row, ScalingRow},
    seed::{self, Fixture},
    wrk::{self, Load, Request, Summary},
};

pub struct Context<'a> {
    pub bench_dir: &'a Path,
    pub load: Load,
    /// How often each scenario runs; the median run is reported.
    pub rounds: usize,
}

/// The organization the main scenarios use: a template app made through the
/// API and fixture copies of it.
pub struct Organization {
    pub app_id: String,
}

/// An app as a customer would configure it: several fields set, features,
/// domains and a webhook, so reads and writes carry a realistic body.
const APP_BODY: &str = r#"{"name": "Storefront", "description": "Checkout and loyalty app for the retail stores", "environment": "production", "website_url": "https://shop.example.com", "app_store_url": "https://apps.apple.com/app/id1234567890", "authorized_domains": ["shop.example.com", "www.example.com"], "data_retention_days": 365, "timezone": "Europe/Paris", "features": {"push": true, "analytics": true}, "webhook_enabled": true, "webhook_url": "https://hooks.example.com/appdeck", "context_info": "Owned by the retail team"}"#;

/// `POST /v1/apps` with the realistic body.
pub fn create_request(token: &str) -> Request<'_> {
    Request { method: "POST", path: "/v1/apps", token: Some(token), body: Some(APP_BODY) }
}

const PATCH_BODY: &str =
    r#"{"description": "Checkout and loyalty app, updated by the benchmark", "features": {"audiences": true}}"#;

pub fn seed_organization(server: &Server, database: &Database, token: &str, apps: u64) -> Result<Organization, String> {
    let app_id = create_template(server.address, token)?;
    seed::grow(database, &Fixture::new(&app_id, "fa"), 0, apps - 1)?;
    walk(server.address, token, apps)?;
    Ok(Organization { app_id })
}

/// One build of the server under test, with its organization. A `--compare`
/// run has two, labelled `old` and `new`; a plain run has one, unlabelled.
pub struct Side<'a> {
    pub label: Option<&'static str>,
    pub server: &'a Server,
    pub token: &'a str,
    pub organization: &'a Organization,
}

pub fn main_table(context: &Context, ceiling_binary: &Path, sides: &[Side]) -> Result<Vec<Row>, String> {
    let first = sides.first().ok_or("no server to measure")?;
    // The ceiling serves exactly the bytes appdeck answers for this app and
    // for the first list page (in a comparison, as the first side answers).
    let app_path = |side: &Side| format!("/v1/apps/{}", side.organization.app_id);
    let app_file = capture(context, first.server, &app_path(first), first.token, "app.json")?;
    let list_file = capture(context, first.server, LIST_PATH, first.token, "list.json")?;
    let (ceiling, ceiling_address) = process::start_ceiling(ceiling_binary, &app_file, &list_file)?;

    let first_app_path = app_path(first);
    let mut scenarios = vec![
        Scenario {
            name: "ceiling: bare axum, the app's JSON from memory",
            side: None,
            ceiling: None,
            address: ceiling_address,
            pid: ceiling.pid(),
            request: OwnedRequest { method: "GET", path: first_app_path.clone(), token: None, body: None },
        },
        Scenario {
            name: "ceiling: bare axum, the list page's JSON from memory",
            side: None,
            ceiling: None,
            address: ceiling_address,
            pid: ceiling.pid(),
            request: OwnedRequest { method: "GET", path: LIST_PATH.into(), token: None, body: None },
        },
    ];
    let operations: [(&'static str, usize, &'static str, Option<&'static str>); 4] = [
        ("GET /v1/apps/{id}", 0, "GET", None),
        ("GET /v1/apps?limit=50", 1, "GET", None),
        ("POST /v1/apps", 0, "POST", Some(APP_BODY)),
        ("PATCH /v1/apps/{id}", 0, "PATCH", Some(PATCH_BODY)),
    ];
    // In a comparison the sides take turns scenario by scenario, so a slow
    // spell of the shared machine falls on both.
    for (name, ceiling, method, body) in operations {
        for side in sides {
            let path = match name {
                "GET /v1/apps?limit=50" => LIST_PATH.to_owned(),
                "POST /v1/apps" => "/v1/apps".to_owned(),
                _ => app_path(side),
            };
            scenarios.push(Scenario {
                name,
                side: side.label,
                ceiling: Some(ceiling),
                address: side.server.address,
                pid: side.server.process.pid(),
                request: OwnedRequest { method, path, token: Some(side.token.to_owned()), body },
            });
        }
    }
    // Round after round of every scenario, the ceiling included, so a slow
    // spell of the shared machine falls on all of them alike. Each round
    // reverses the order of the sides within a scenario: neither always goes first.
    let mut runs: Vec<(Vec<Summary>, u64)> = scenarios.iter().map(|_| (Vec::new(), 0)).collect();
    for round in 1..=context.rounds {
        let mut order: Vec<usize> = (0..scenarios.len()).collect();
        if round % 2 == 0 {
            for pair in order[2..].chunks_mut(sides.len()) {
                pair.reverse();
            }
        }
        for index in order {
            let (scenario, (summaries, peak_rss_kib)) = (&scenarios[index], &mut runs[index]);
            let side = scenario.side.map(|side| format!(" ({side})")).unwrap_or_default();
            eprintln!("bench: {}{side} (round {round} of {})", scenario.name, context.rounds);
            let (summary, rss_kib) = measure(context, scenario.address, scenario.pid, &scenario.request.borrowed())?;
            summaries.push(summary);
            *peak_rss_kib = (*peak_rss_kib).max(rss_kib);
        }
    }
    drop(ceiling);
    let rows = scenarios.iter().zip(runs).map(|(scenario, (summaries, peak_rss_kib))| {
        let (summary, spread) = wrk::median(summaries);
        Row {
            scenario: scenario.name.to_owned(),
            side: scenario.side,
            ceiling: scenario.ceiling,
            summary,
            spread,
            peak_rss_kib,
        }
    });
    Ok(rows.collect())
}

const LIST_PATH: &str = "/v1/apps?limit=50";

/// One scenario of the main table: what is sent, to which process.
struct Scenario {
    name: &'static str,
    side: Option<&'static str>,
    /// The index of the ceiling scenario serving the same bytes.
    ceiling: Option<usize>,
    address: SocketAddr,
    pid: u32,
    request: OwnedRequest,
}

/// A [`Request`] that owns its path and token.
struct OwnedRequest {
    method: &'static str,
    path: String,
    token: Option<String>,
    body: Option<&'static str>,
}

impl OwnedRequest {
    fn borrowed(&self) -> Request<'_> {
        Request { method: self.method, path: &self.path, token: self.token.as_deref(), body: self.body }
    }
}

/// Writes appdeck's answer to `GET path` to `<bench>/file_name`, for the ceiling.
fn capture(
    context: &Context,
    server: &Server,
    path: &str,
    token: &str,
    file_name: &str,
) -> Result<std::path::PathBuf, String> {
    let response = http::send(server.address, "GET", path, Some(token), None)?;
    if response.status != 200 {
        return Err(format!("GET {path}: HTTP {}: {}", response.status, response.body));
    }
    let file = context.bench_dir.join(file_name);
    std::fs::write(&file, &response.body).map_err(|error| format!("cannot write {}: {error}", file.display()))?;
    Ok(file)
}

/// The first page and a deep page (90 % into the list) of a second
/// organization grown to each size in turn.
pub fn scaling(
    context: &Context,
    server: &Server,
    database: &Database,
    token: &str,
    sizes: &[u64],
) -> Result<Vec<ScalingRow>, String> {
    let address = server.address;
    let fixture = Fixture::new(&create_template(address, token)?, "fb");
    let mut rows = Vec::new();
    let mut seeded = 1;
    for &size in sizes {
        let started = Instant::now();
        // The template is one of the apps; fixtures are numbered from 1.
        seed::grow(database, &fixture, seeded - 1, size - 1)?;
        seeded = size;
        let loaded = started.elapsed();
        let deep_cursor = walk(address, token, size)?;
        eprintln!(
            "bench: scaling organization at {size} apps (fixtures loaded in {:.1} s, list walked in {:.1} s)",
            loaded.as_secs_f64(),
            (started.elapsed() - loaded).as_secs_f64()
        );
        let deep_path = format!("/v1/apps?limit=50&cursor={deep_cursor}");
        let pages = [("first", "/v1/apps?limit=50"), ("deep", deep_path.as_str())];
        let mut runs = [Vec::new(), Vec::new()];
        for round in 1..=context.rounds {
            for ((page, path), summaries) in pages.iter().zip(&mut runs) {
                let request = Request { method: "GET", path, token: Some(token), body: None };
                let script = context.bench_dir.join("list.lua");
                eprintln!("bench: {page} page at {size} apps (round {round} of {})", context.rounds);
                summaries.push(wrk::run(address, &request, context.load, &script)?);
            }
        }
        for ((page, _), summaries) in pages.into_iter().zip(runs) {
            let (summary, spread) = wrk::median(summaries);
            rows.push(ScalingRow { page, apps: size, summary, spread });
        }
    }
    Ok(rows)
}

/// Runs one scenario with wrk while sampling the measured process's
/// memory; returns wrk's summary and the highest `VmRSS` sampled, in KiB.
fn measure(context: &Context, address: SocketAddr, pid: u32, request: &Request) -> Result<(Summary, u64), String> {
    let script = context.bench_dir.join(format!("{}.lua", request.method.to_ascii_lowercase()));
    let sampler = RssSampler::start(pid);
    let summary = wrk::run(address, request, context.load, &script);
    let peak_rss_kib = sampler.stop();
    Ok((summary?, peak_rss_kib))
}

/// Creates, through the API, the app that fixture rows copy; returns its id.
fn create_template(address: SocketAddr, token: &str) -> Result<String, String> {
    let created = http::send(address, "POST", "/v1/apps", Some(token), Some(APP_BODY))?.json(201, "POST /v1/apps")?;
    created["app"]["id"].as_str().map(str::to_owned).ok_or_else(|| format!("POST /v1/apps: no app.id in {created}"))
}

/// Walks the whole list through the API, 100 apps a page, checking that it
/// holds exactly `expected` apps in strictly increasing id order: the
/// fixtures list and paginate like apps the server made. Returns the cursor
/// that starts the page 90 % into the list.
fn walk(address: SocketAddr, token: &str, expected: u64) -> Result<String, String> {
    let deep_position = expected * 9 / 10;
    let (mut seen, mut cursor, mut deep_cursor, mut last_id) = (0, String::new(), None, String::new());
    loop {
        if deep_cursor.is_none() && seen >= deep_position && !cursor.is_empty() {
            deep_cursor = Some(cursor.clone());
        }
        let path = format!("/v1/apps?limit=100&cursor={cursor}");
        let page = http::send(address, "GET", &path, Some(token), None)?.json(200, "GET /v1/apps")?;
        let apps = page["apps"].as_array().ok_or_else(|| format!("GET {path}: no apps array"))?;
        for app in apps {
            let id = app["id"].as_str().unwrap_or_default();
            if id <= last_id.as_str() {
                return Err(format!("GET {path}: app {id} is listed after {last_id}"));
            }
            last_id = id.to_owned();
        }
        seen += apps.len() as u64;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    if seen != expected {
        return Err(format!("the list holds {seen} apps, {expected} were seeded"));
    }
    deep_cursor.ok_or_else(|| format!("a list of {expected} apps has no page 90 % in"))
}
