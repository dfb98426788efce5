//! Where a test's data lives: a fresh SQLite file by default, or, when
//! `TEST_DATABASE_URL` names a PostgreSQL database, a fresh schema in it,
//! dropped when the test ends. `TEST_REDIS_URL` puts the rate limits in
//! Redis, under a key prefix of their own.

use sqlx::Connection;
use uuid::Uuid;

/// A test's database, removed when dropped.
pub enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

impl TestDatabase {
    /// A new, empty database on the backend the environment asks for.
    pub async fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let schema = format!("test_{}", Uuid::now_v7().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("connect to TEST_DATABASE_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut admin)
                    .await
                    .expect("create the test schema");
                Self::Postgres { admin_url, schema }
            }
            _ => Self::sqlite(),
        }
    }

    /// A new, empty SQLite database.
    pub fn sqlite() -> Self {
        Self::Sqlite(tempfile::tempdir().expect("create a temporary directory"))
    }

    /// The `DATABASE_URL` the server is given.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(directory) => format!("sqlite://{}", directory.path().join("appdeck.db").display()),
            Self::Postgres { admin_url, schema } => {
                let separator = if admin_url.contains('?') { '&' } else { '?' };
                // Named after the schema, so that dropping it can end them.
                format!("{admin_url}{separator}options=-c%20search_path%3D{schema}&application_name={schema}")
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }

    /// Everything the backend keeps, as bytes: the SQLite files, or every
    /// row of every table of the schema as text. For tests that search
    /// stored data for what must never be there.
    pub async fn stored_data(&self) -> Vec<(String, Vec<u8>)> {
        match self {
            Self::Sqlite(directory) => std::fs::read_dir(directory.path())
                .expect("list the database directory")
                .map(|entry| {
                    let entry = entry.expect("read a directory entry");
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let bytes = std::fs::read(entry.path()).unwrap_or_else(|error| panic!("read {name}: {error}"));
                    (name, bytes)
                })
                .collect(),
            Self::Postgres { admin_url, schema } => {
                let mut connection = sqlx::PgConnection::connect(admin_url).await.expect("connect to the database");
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
                )
                .bind(schema)
                .fetch_all(&mut connection)
                .await
                .expect("list the tables");
                let mut data = Vec::new();
                for table in tables {
                    let sql = format!("SELECT row_to_json(t)::text FROM {schema}.\"{table}\" t");
                    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .fetch_all(&mut connection)
                        .await
                        .expect("read the table");
                    data.push((table, rows.join("\n").into_bytes()));
                }
                data
            }
        }
    }

    /// Runs `sql` on the database behind the server's back.
    pub async fn execute(&self, sql: &str) {
        match self {
            Self::Sqlite(directory) => {
                let connection =
                    rusqlite::Connection::open(directory.path().join("appdeck.db")).expect("open the test database");
                connection.busy_timeout(std::time::Duration::from_secs(5)).expect("set the busy timeout");
                connection.execute_batch(sql).expect("the statement runs");
            }
            Self::Postgres { .. } => {
                let mut connection = sqlx::PgConnection::connect(&self.url()).await.expect("connect");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut connection)
                    .await
                    .expect("the statement runs");
            }
        }
    }

    /// Takes the lock every write to `apps` needs, on another connection,
    /// until `WriteLock::release`.
    pub async fn lock_app_writes(&self) -> WriteLock {
        match self {
            Self::Sqlite(directory) => {
                let connection =
                    rusqlite::Connection::open(directory.path().join("appdeck.db")).expect("open the test database");
                connection.busy_timeout(std::time::Duration::from_secs(5)).expect("set the busy timeout");
                connection.execute_batch("BEGIN EXCLUSIVE").expect("take the write lock");
                WriteLock::Sqlite(connection)
            }
            Self::Postgres { schema, .. } => {
                let mut connection = sqlx::PgConnection::connect(&self.url()).await.expect("connect to the database");
                sqlx::query("BEGIN").execute(&mut connection).await.expect("begin");
                sqlx::query(sqlx::AssertSqlSafe(format!("LOCK TABLE {schema}.apps IN EXCLUSIVE MODE")))
                    .execute(&mut connection)
                    .await
                    .expect("take the write lock");
                WriteLock::Postgres(connection)
            }
        }
    }

    /// Takes the lock a write to `api_tokens` needs (on SQLite, every
    /// write's), on another connection, until `WriteLock::release`. Reads
    /// go on.
    pub async fn lock_token_writes(&self) -> WriteLock {
        match self {
            Self::Sqlite(_) => self.lock_app_writes().await,
            Self::Postgres { schema, .. } => {
                let mut connection = sqlx::PgConnection::connect(&self.url()).await.expect("connect to the database");
                sqlx::query("BEGIN").execute(&mut connection).await.expect("begin");
                sqlx::query(sqlx::AssertSqlSafe(format!("LOCK TABLE {schema}.api_tokens IN EXCLUSIVE MODE")))
                    .execute(&mut connection)
                    .await
                    .expect("take the write lock");
                WriteLock::Postgres(connection)
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Self::Postgres { admin_url, schema } = self else { return };
        let (admin_url, schema, name) = (admin_url.clone(), schema.clone(), schema.clone());
        // Drop runs inside the test's runtime, which cannot block on a future:
        // the schema is dropped from a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                // The test's own runtime is blocked in this drop, so a
                // transaction its server had open (a webhook attempt being
                // recorded, say) can never finish and would hold its locks
                // against the drop for ever: its connections are ended first.
                sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1")
                    .bind(&schema)
                    .execute(&mut admin)
                    .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut admin).await?;
                Ok::<(), sqlx::Error>(())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop the test schema {name}: {error}");
        }
    }
}

/// A lock held on another connection; writes wait for it.
pub enum WriteLock {
    Sqlite(rusqlite::Connection),
    Postgres(sqlx::PgConnection),
}

impl WriteLock {
    /// Gives the lock back and closes its connection.
    pub async fn release(self) {
        match self {
            Self::Sqlite(connection) => {
                connection.execute_batch("ROLLBACK").expect("release the lock");
                connection.close().map_err(|(_, error)| error).expect("close the lock connection");
            }
            Self::Postgres(mut connection) => {
                sqlx::query("ROLLBACK").execute(&mut connection).await.expect("release the lock");
                connection.close().await.expect("close the lock connection");
            }
        }
    }
}

/// Redis for the rate limits when `TEST_REDIS_URL` is set: the URL and a key
/// prefix no other test uses.
pub fn test_redis() -> Option<(String, String)> {
    let url = std::env::var("TEST_REDIS_URL").ok().filter(|url| !url.is_empty())?;
    Some((url, format!("appdeck-test:{}:", Uuid::now_v7().simple())))
}

/// `url` with its host and port replaced by `address` (a proxy's, say).
pub fn reroute(url: &str, address: std::net::SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let credentials = authority.rsplit_once('@').map(|(credentials, _)| format!("{credentials}@")).unwrap_or_default();
    format!("{scheme}://{credentials}{address}/{path}")
}

/// The socket address of the PostgreSQL server `url` names.
pub fn server_address(url: &str) -> std::net::SocketAddr {
    server_address_or(url, 5432)
}

/// The socket address of the server `url` names, `default_port` when it names none.
pub fn server_address_or(url: &str, default_port: u16) -> std::net::SocketAddr {
    let authority = url.split("://").nth(1).and_then(|rest| rest.split(['/', '?']).next()).expect("a URL with a host");
    let host_and_port = authority.rsplit('@').next().unwrap_or(authority);
    let host_and_port =
        if host_and_port.contains(':') { host_and_port.to_owned() } else { format!("{host_and_port}:{default_port}") };
    std::net::ToSocketAddrs::to_socket_addrs(&host_and_port)
        .expect("resolve the server's host")
        .next()
        .expect("an address for the server's host")
}
