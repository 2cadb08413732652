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

pub mod agents;
pub mod bounds;
pub mod codec;
pub mod daily;
pub mod entities;
pub mod invitations;
pub mod json_text;
pub mod keys;
pub mod managed;
pub mod mcp_servers;
pub mod mcp_toolsets;
pub mod models;
pub mod object_permissions;
pub mod responses;
pub mod sessions;
pub mod spend;
pub mod time;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
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

impl StoreError {
    /// Whether the database refused what was sent (a value, a constraint, a size limit),
    /// which sending it again cannot change; not an outage, a timeout or a lock conflict.
    /// The database could not be reached or did not answer in time (an outage, not a fault of
    /// the request).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Db(
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
                    | sqlx::Error::WorkerCrashed
            )
        )
    }

    pub fn is_refusal(&self) -> bool {
        let StoreError::Db(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Encode(_) => true,
            sqlx::Error::Database(d) => {
                let code = d.code().unwrap_or_default();
                if d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some()
                {
                    // SQLSTATE classes 22 data exception, 23 integrity constraint violation,
                    // 54 program limit exceeded (an index row too big).
                    ["22", "23", "54"].iter().any(|c| code.starts_with(c))
                } else {
                    // SQLite's primary result codes (the low byte of the extended code):
                    // SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH.
                    code.parse::<i64>()
                        .is_ok_and(|c| matches!(c & 0xff, 18..=20))
                }
            }
            _ => false,
        }
    }
}

/// A pool on one of the two databases.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// What a pool is for: the request path and management API share one, a batch writer has its own.
enum Pooled {
    Shared,
    Writer,
}

/// The database, and the columns each table really has: a LiteLLM database of another version
/// may lack a column we know, and we write only what is there.
#[derive(Clone, Debug)]
pub struct Store {
    pub db: Db,
    url: std::sync::Arc<str>,
    columns: std::sync::Arc<
        std::sync::RwLock<std::collections::HashMap<String, std::collections::HashSet<String>>>,
    >,
}

impl Store {
    /// `postgres://` / `postgresql://` URLs, or `sqlite://path` (created if missing).
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::connect_pooled(url, Pooled::Shared).await
    }

    async fn connect_pooled(url: &str, pooled: Pooled) -> Result<Store, StoreError> {
        // A writer of batches runs one at a time: one connection. Each connection keeps its
        // own prepared statements (a 256-row INSERT's program is large) and SQLite page cache,
        // so a pool that cycles through several holds that memory several times over.
        let (pg_max, sqlite_max, statements) = match pooled {
            Pooled::Shared => (10, 4, 100),
            Pooled::Writer => (1, 1, 32),
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?.statement_cache_capacity(statements);
            // A database that stops answering fails requests in seconds, not the default 30.
            let pool = PgPoolOptions::new()
                .max_connections(pg_max)
                .acquire_timeout(std::time::Duration::from_secs(5))
                .connect_with(opts)
                .await?;
            return Ok(Store::new(Db::Postgres(pool), url));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                // Commits without an fsync each (WAL stays consistent through a crash of the
                // process; llmgate's spend journal covers what a power loss could undo).
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(std::time::Duration::from_secs(5))
                .statement_cache_capacity(statements);
            let pool = SqlitePoolOptions::new()
                .max_connections(sqlite_max)
                .connect_with(opts)
                .await?;
            return Ok(Store::new(Db::Sqlite(pool), url));
        }
        Err(StoreError::Url(url.to_string()))
    }

    fn new(db: Db, url: &str) -> Store {
        Store {
            db,
            url: url.into(),
            columns: Default::default(),
        }
    }

    /// A second pool on the same database, for a batch writer on another runtime (a pool's
    /// connections belong to the runtime that opened them): one connection, as its batches run
    /// one at a time. It shares what is known of the tables.
    pub async fn reconnect(&self) -> Result<Store, StoreError> {
        let mut other = Store::connect_pooled(&self.url, Pooled::Writer).await?;
        other.columns = self.columns.clone();
        Ok(other)
    }

    /// Creates the tables that do not exist yet (never alters or drops LiteLLM's), then reads
    /// which columns the tables have.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
            Db::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(p).await?,
        }
        for table in [
            keys::TABLE,
            spend::TABLE,
            entities::USERS.name,
            entities::TEAMS.name,
            entities::CUSTOMERS.name,
            entities::BUDGETS.name,
            entities::ORGANIZATIONS.name,
            entities::ORG_MEMBERS.name,
            entities::TAGS.name,
            models::MODELS.name,
            responses::RESPONSES.name,
            object_permissions::OBJECT_PERMISSIONS.name,
            mcp_servers::MCP_SERVERS.name,
            mcp_toolsets::MCP_TOOLSETS.name,
            daily::USER.table,
            daily::TEAM.table,
            daily::ORGANIZATION.table,
            daily::END_USER.table,
            daily::TAG.table,
        ] {
            let cols = self.read_columns(table).await?;
            self.columns
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(table.to_string(), cols);
        }
        Ok(())
    }

    async fn read_columns(
        &self,
        table: &str,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let names: Vec<(String,)> = match &self.db {
            Db::Postgres(p) => {
                sqlx::query_as("SELECT column_name::TEXT FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema()")
                    .bind(table)
                    .fetch_all(p)
                    .await?
            }
            Db::Sqlite(p) => sqlx::query_as("SELECT name FROM pragma_table_info(?1)").bind(table).fetch_all(p).await?,
        };
        Ok(names.into_iter().map(|(n,)| n).collect())
    }

    /// Whether `table` has `column` (true before the columns are known).
    pub fn has_column(&self, table: &str, column: &str) -> bool {
        self.columns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(table)
            .is_none_or(|cols| cols.contains(column))
    }

    pub fn kind(&self) -> &'static str {
        match &self.db {
            Db::Postgres(_) => "postgres",
            Db::Sqlite(_) => "sqlite",
        }
    }

    /// A cheap round trip, for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
            Db::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
        }
        .map_err(StoreError::from)
    }

    /// Sends `payload` on a PostgreSQL NOTIFY channel (false on SQLite: nothing to tell).
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<bool, StoreError> {
        let Db::Postgres(p) = &self.db else {
            return Ok(false);
        };
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(p)
            .await?;
        Ok(true)
    }

    /// Listens on a PostgreSQL NOTIFY channel (None on SQLite).
    pub async fn listen(&self, channel: &str) -> Result<Option<Listener>, StoreError> {
        let Db::Postgres(_) = &self.db else {
            return Ok(None);
        };
        let mut l = sqlx::postgres::PgListener::connect(&self.url).await?;
        l.listen(channel).await?;
        Ok(Some(Listener(l)))
    }
}

/// Notifications of one PostgreSQL channel; reconnects by itself.
pub struct Listener(sqlx::postgres::PgListener);

impl Listener {
    /// The next payload; `Ok(None)` when the connection was lost and re-made (notifications
    /// sent meanwhile are lost).
    pub async fn recv(&mut self) -> Result<Option<String>, StoreError> {
        Ok(self.0.try_recv().await?.map(|n| n.payload().to_string()))
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
