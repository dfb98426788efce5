//! A fresh database for each bench run: a new SQLite file under the bench
//! directory, or a new PostgreSQL schema, dropped when the run ends.

use std::{path::Path, time::SystemTime};

use sqlx::Connection;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// The PostgreSQL database the bench makes its schema in: the same variable
/// and default as the test suite.
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub struct Database {
    pub backend: Backend,
    /// The `DATABASE_URL` the server and the fixture loader use.
    pub url: String,
    /// For PostgreSQL: the admin URL and the schema to drop at the end.
    postgres_schema: Option<(String, String)>,
}

impl Database {
    pub fn create(backend: Backend, bench_dir: &Path) -> Result<Self, String> {
        match backend {
            Backend::Sqlite => {
                let path = bench_dir.join("appdeck-bench.db");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                Ok(Self { backend, url: format!("sqlite://{}", path.display()), postgres_schema: None })
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL")
                    .ok()
                    .filter(|url| !url.is_empty())
                    .unwrap_or(DEFAULT_POSTGRES_URL.into());
                let seconds = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs();
                let schema = format!("bench_{seconds}_{}", std::process::id());
                execute_postgres(&admin_url, &format!("CREATE SCHEMA {schema}"))
                    .map_err(|error| format!("cannot create schema {schema} in {admin_url}: {error}"))?;
                let separator = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
                Ok(Self { backend, url, postgres_schema: Some((admin_url, schema)) })
            }
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((admin_url, schema)) = &self.postgres_schema
            && let Err(error) = execute_postgres(admin_url, &format!("DROP SCHEMA {schema} CASCADE"))
        {
            eprintln!("bench: could not drop schema {schema}: {error}");
        }
    }
}

fn execute_postgres(url: &str, sql: &str) -> Result<(), sqlx::Error> {
    super::runtime::block_on(async {
        let mut connection = sqlx::PgConnection::connect(url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut connection).await?;
        connection.close().await
    })
}
