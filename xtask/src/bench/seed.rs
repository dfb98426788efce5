//! Benchmark fixture loading: bulk-inserts apps straight into the database,
//! because a million apps through the API would take longer than the bench.
//!
//! Every fixture row is a copy of a template app that was created through the
//! API (so every column holds a value the server itself wrote and will read
//! back), with its own UUIDv7 id, name and `api_key` (unique). The columns are
//! read from the database's catalog, so a new column is copied too instead of
//! breaking the loader. Apps have no counters elsewhere (the organization
//! keeps no app count), and the lists read only `apps`; fixtures get no audit
//! events, which no app read looks at. The bench then checks through the API
//! that the seeded apps list and paginate.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;

use super::{
    database::{Backend, Database},
    runtime::block_on,
};

/// Where one organization's fixture rows come from and how they are numbered.
pub struct Fixture {
    /// The id (hyphenated) of the app every fixture row copies.
    pub template_id: String,
    /// Two characters in every fixture `api_key`, distinct per organization.
    pub key_tag: &'static str,
    /// The UUIDv7 timestamp of fixture 0, in ms; fixture n is n ms later, so
    /// the ids are unique, sort in fixture order, and growing an organization
    /// appends after the rows it already has.
    pub base_ms: i64,
}

impl Fixture {
    pub fn new(template_id: &str, key_tag: &'static str) -> Self {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as i64;
        // A day before now: a million fixtures, 1 ms apart, all precede the
        // template and whatever the bench creates afterwards.
        Self { template_id: template_id.to_owned(), key_tag, base_ms: now_ms - 86_400_000 }
    }
}

/// Inserts fixtures number `from + 1 ..= to` for the template's organization,
/// in one statement (one transaction).
pub fn grow(database: &Database, fixture: &Fixture, from: u64, to: u64) -> Result<(), String> {
    if to <= from {
        return Ok(());
    }
    let (from, to) = (from as i64 + 1, to as i64);
    let result = match database.backend {
        Backend::Sqlite => grow_sqlite(database, fixture, from, to).map_err(|error| error.to_string()),
        Backend::Postgres => block_on(async {
            let mut db = sqlx::PgConnection::connect(&database.url).await?;
            let columns: Vec<String> = sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = 'apps' ORDER BY ordinal_position",
            )
            .fetch_all(&mut db)
            .await?;
            let sql = insert_sql(&columns, Backend::Postgres);
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(from)
                .bind(to)
                .bind(fixture.base_ms)
                .bind(format!("ak_{}", fixture.key_tag))
                .bind(&fixture.template_id)
                .execute(&mut db)
                .await?;
            // Autovacuum would analyze a table that grew this much soon after;
            // the bench does it now so plans match a settled database.
            sqlx::query("ANALYZE apps").execute(&mut db).await?;
            db.close().await
        })
        .map_err(|error| error.to_string()),
    };
    result.map_err(|error| format!("loading fixture apps {from}..={to}: {error}"))
}

fn grow_sqlite(database: &Database, fixture: &Fixture, from: i64, to: i64) -> rusqlite::Result<()> {
    let path = database.url.strip_prefix("sqlite://").unwrap_or(&database.url);
    let db = rusqlite::Connection::open(path)?;
    db.busy_timeout(std::time::Duration::from_secs(30))?;
    let columns = db
        .prepare("SELECT name FROM pragma_table_info('apps') ORDER BY cid")?
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // SQLite numbers its parameters `?N`; the shared text uses `$N`.
    let sql = insert_sql(&columns, Backend::Sqlite).replace('$', "?");
    let key_prefix = format!("ak_{}", fixture.key_tag);
    let template = fixture.template_id.replace('-', "");
    db.execute(&sql, rusqlite::params![from, to, fixture.base_ms, key_prefix, template])?;
    Ok(())
}

/// `INSERT ... SELECT` of fixtures `$1..=$2` (timestamp base `$3`, key prefix
/// `$4`) copied from the template `$5`. `n` is the fixture number.
fn insert_sql(columns: &[String], backend: Backend) -> String {
    let (numbers, id, padded_number, template) = match backend {
        Backend::Sqlite => (
            "WITH RECURSIVE numbers(n) AS (SELECT $1 UNION ALL SELECT n + 1 FROM numbers WHERE n < $2) ",
            // UUIDv7 layout: 48-bit ms timestamp, version 7, variant 10xx.
            "unhex(printf('%012x', $3 + n) || '7000' || '8' || printf('%015x', n))",
            "printf('%030d', n)",
            "unhex($5)",
        ),
        Backend::Postgres => (
            "",
            "(lpad(to_hex($3::bigint + n), 12, '0') || '7000' || '8' || lpad(to_hex(n), 15, '0'))::uuid",
            "lpad(n::text, 30, '0')",
            "$5::uuid",
        ),
    };
    let values: Vec<String> = columns
        .iter()
        .map(|column| match column.as_str() {
            "id" => id.to_owned(),
            "name" => "'Fixture app ' || n".to_owned(),
            // `ak_` + 32 characters, like the keys the server makes.
            "api_key" => format!("$4 || {padded_number}"),
            other => format!("template.{other}"),
        })
        .collect();
    let source = match backend {
        Backend::Sqlite => "numbers",
        Backend::Postgres => "generate_series($1::bigint, $2::bigint) AS numbers(n)",
    };
    format!(
        "{numbers}INSERT INTO apps ({}) SELECT {} FROM {source} CROSS JOIN apps AS template WHERE template.id = {template}",
        columns.join(", "),
        values.join(", "),
    )
}
