//! Storage on LiteLLM's schema: embedded SQLite by default, PostgreSQL with `database_url`.
//!
//! Rows travel as JSON objects keyed by LiteLLM's column names ([`codec`]): one code path
//! serves both databases, and the SQL differs only where the column types do (arrays, JSON,
//! timestamps), which [`codec::Kind`] decides.

/// Binds [`codec::Param`]s to a query, in order.
macro_rules! bind_all {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for p in $params {
            q = match p {
                $crate::codec::Param::Text(v) => q.bind(v),
                $crate::codec::Param::Float(v) => q.bind(v),
                $crate::codec::Param::Int(v) => q.bind(v),
                $crate::codec::Param::Bool(v) => q.bind(v),
            };
        }
        q
    }};
}

pub mod codec;
pub mod keys;
pub mod spend;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (use postgresql://... or sqlite://...): {0}")]
    Url(String),
    #[error("bad row: {0}")]
    Row(String),
}

/// A pool on one of the two databases.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Store {
    /// `postgres://` / `postgresql://` URLs, or `sqlite://path` (created if missing).
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .connect(url)
                .await?;
            return Ok(Store::Postgres(pool));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(std::time::Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(opts)
                .await?;
            return Ok(Store::Sqlite(pool));
        }
        Err(StoreError::Url(url.to_string()))
    }

    /// Creates the tables that do not exist yet (never alters or drops LiteLLM's).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
            Store::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(p).await?,
        }
        Ok(())
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Store::Postgres(_) => "postgres",
            Store::Sqlite(_) => "sqlite",
        }
    }

    /// A cheap round trip, for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Store::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
            Store::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
        }
        .map_err(StoreError::from)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
