//! How long the longest read holds a runtime worker on SQLite, where reads
//! run inline: a page of 100 apps (with credentials) of an organization
//! holding a million, 90 % into the list. A measurement, not a test:
//!
//! ```sh
//! cargo run --release -p appdeck-server --example longest_read
//! ```

use std::time::{Duration, Instant};

use appdeck_server::{
    domain::{
        app::{App, CreateAppRequest},
        organization::Organization,
        token::TokenRole,
    },
    provisioning,
    store::{AppFilter, CredentialColumns, PageRequest, PoolSettings, StoreSettings, connect},
};
use chrono::Utc;
use uuid::Uuid;

const APPS: i64 = 1_000_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let directory = tempfile::tempdir()?;
    let path = directory.path().join("longest-read.db");
    let settings = StoreSettings {
        pool: PoolSettings { max_connections: 1, acquire_timeout: Duration::from_secs(5) },
        statement_timeout: Duration::from_secs(10),
        sqlite_max_page_count: None,
        webhook_secret_key: None,
    };
    let store = connect(&format!("sqlite://{}", path.display()), settings)?;
    store.migrate().await?;
    let organization = Organization {
        id: Uuid::now_v7(),
        name: "Scaling Co".to_owned(),
        created_at: Utc::now(),
        rate_limit_per_hour: 1000,
    };
    let (first_token, _) = provisioning::new_token(organization.id, "admin", TokenRole::Admin, None, None)?;
    store.create_organization(&organization, &first_token, &Default::default()).await?;
    let request: CreateAppRequest = serde_json::from_value(serde_json::json!({
        "name": "Template", "website_url": "https://shop.example.com",
        "authorized_domains": ["shop.example.com", "*.shop.example.com"],
        "features": {"push": true, "analytics": true},
        "engagement_platform": "wonderpush", "engagement_credentials": {"access_token": "t".repeat(64)},
        "webhook_enabled": true, "webhook_url": "https://hooks.example.com/appdeck"
    }))?;
    let template = App::create(organization.id, request, Utc::now())?;
    store.insert_app(&template, &Default::default(), Default::default()).await?;

    // Copies of the template, bulk-inserted as `cargo xtask bench` seeds them.
    let loader = rusqlite::Connection::open(&path)?;
    loader.busy_timeout(Duration::from_secs(30))?;
    let columns: Vec<String> = loader
        .prepare("SELECT name FROM pragma_table_info('apps') ORDER BY cid")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let values: Vec<String> = columns
        .iter()
        .map(|column| match column.as_str() {
            "id" => "unhex(printf('%012x', ?1 + n) || '7000' || '8' || printf('%015x', n))".to_owned(),
            "api_key" => "'ak_' || printf('%032d', n)".to_owned(),
            other => format!("template.{other}"),
        })
        .collect();
    let load = format!(
        "WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < ?3) \
         INSERT INTO apps ({}) SELECT {} FROM numbers CROSS JOIN apps AS template WHERE template.id = ?2",
        columns.join(", "),
        values.join(", ")
    );
    let base_ms = Utc::now().timestamp_millis() - 86_400_000;
    let started = Instant::now();
    loader.execute(&load, rusqlite::params![base_ms, template.id.as_bytes().as_slice(), APPS])?;
    println!("loaded {APPS} apps in {:?}", started.elapsed());
    let deep: Vec<u8> =
        loader.query_row("SELECT id FROM apps ORDER BY id LIMIT 1 OFFSET ?1", [APPS * 9 / 10], |row| row.get(0))?;

    let page = PageRequest { after: Some(Uuid::from_slice(&deep)?), limit: 101 };
    let mut times = Vec::new();
    for _ in 0..1000 {
        let started = Instant::now();
        let apps = store.list_apps(organization.id, AppFilter::default(), page, CredentialColumns::Read).await?;
        times.push(started.elapsed());
        assert_eq!(apps.len(), 101);
    }
    times.sort();
    println!(
        "a page of 100 (101 rows read) at {APPS} apps, 90 % in: median {:?}, p99 {:?}, max {:?}",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1]
    );
    Ok(())
}
