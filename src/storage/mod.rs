//! Storage: connecting to SQLite or PostgreSQL, migrations, and write transactions.

pub mod backup;
pub mod history;
pub mod idempotency;
pub mod keyset;
pub mod schema;
pub mod server_keys;
pub mod sql;
pub mod tree;
pub mod user_columns;
mod write_gate;

pub use write_gate::{WriteGate, WriteTxn};

use std::{path::PathBuf, str::FromStr, time::Duration};

use anyhow::Context;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::error::{AppError, AppResult};

/// What opening a database that does not exist does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Create it, as the URL allows (a SQLite file with `mode=rwc`): the server, `pool create`,
    /// `migrate up`.
    Create,
    /// Refuse, naming it: every other command, so that a mistyped URL is an error rather than
    /// a new empty database.
    Refuse,
}

/// Open the pool. SQLite gets WAL and the per-connection pragmas every server needs (set on each
/// connection, not once on the pool); an in-memory SQLite database must stay on one connection.
/// Every statement is reported to `on_statement` (its time, whether it failed).
pub async fn connect(
    url: &str,
    max_connections: u32,
    lock_wait: Duration,
    missing: Missing,
    on_statement: impl Fn(Duration, bool) + Send + Sync + 'static,
) -> anyhow::Result<DatabaseConnection> {
    if missing == Missing::Refuse && checkpoints_in_background(url) {
        let file = sqlite_file(url)?;
        anyhow::ensure!(
            file.exists(),
            "the SQLite database {} does not exist: check --database-url / DATABASE_URL (`orgraph serve` and `orgraph migrate up` create it)",
            file.display()
        );
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10))
        .max_connections(max_connections.max(1));
    if url.starts_with("sqlite:") {
        let in_memory = !checkpoints_in_background(url);
        if in_memory {
            options.max_connections(1);
        }
        options.map_sqlx_sqlite_opts(move |o: SqliteConnectOptions| {
            let o = o
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("temp_store", "memory")
                .pragma("cache_size", "-32768");
            // Checkpoints run in the background (`checkpoint`), not in the commit of whichever
            // write crosses the WAL threshold: a big write (a subtree move dirties ~20,000 pages)
            // would otherwise also copy them into the database file before it answers.
            let o = if in_memory { o } else { o.pragma("wal_autocheckpoint", "0") };
            match missing {
                Missing::Create if !in_memory => o.journal_mode(SqliteJournalMode::Wal),
                Missing::Create => o,
                // The URL's `mode=rwc` would create a missing file (the check above names it;
                // this keeps one that vanished since from being made), and an existing database
                // keeps its journal mode: the server made it WAL, and an empty file that is not
                // orgraph's is left unwritten.
                Missing::Refuse => o.create_if_missing(false),
            }
        });
        options.map_sqlx_sqlite_pool_opts(|pool| pool.after_connect(|conn, _| Box::pin(stable_plans(conn))));
    } else {
        // A write that waits this long for a row or advisory lock gives up with 55P03, which is
        // answered SERVICE_UNAVAILABLE: no request waits on another without bound.
        let lock_timeout = format!("{}ms", lock_wait.as_millis().max(1));
        // No JIT: statements here are short, and PostgreSQL compiled one whenever a generic
        // plan's estimate passed `jit_above_cost`, 30 ms of every run of a 0.1 ms page.
        options.map_sqlx_postgres_opts(move |o| o.options([("lock_timeout", lock_timeout.as_str()), ("jit", "off")]));
    }
    let mut db = Database::connect(options).await.with_context(|| format!("cannot open the database {}", describe(url)))?;
    db.set_metric_callback(move |info| on_statement(info.elapsed, info.failed));
    Ok(db)
}

/// SQLite prepares a statement again on every run when a bound value may change its plan, and
/// the bundled 3.51 counts a bound `LIMIT` as one: every page and every `.one()` was parsed and
/// planned anew, a third of a member page's CPU. Plans here never depend on bound values (no STAT4 samples are
/// gathered), so the connection promises that (the query planner stability guarantee) and keeps
/// its prepared statements.
async fn stable_plans(conn: &mut sea_orm::sqlx::SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    use std::ffi::c_int;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is this connection's open handle, held locked for the call; the option takes
    // an int and an optional int pointer for the new setting.
    let rc = unsafe { libsqlite3_sys::sqlite3_db_config(db, libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG, 1 as c_int, std::ptr::null_mut::<c_int>()) };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sea_orm::sqlx::Error::Configuration(format!("SQLITE_DBCONFIG_ENABLE_QPSG failed with {rc}").into()));
    }
    Ok(())
}

/// The file of a SQLite URL, as an absolute path (messages name it).
pub fn sqlite_file(url: &str) -> anyhow::Result<PathBuf> {
    let options = SqliteConnectOptions::from_str(url).with_context(|| format!("{url} is not a SQLite URL"))?;
    Ok(std::path::absolute(options.get_filename())?)
}

/// The database a URL names, for messages: a SQLite file's absolute path; a PostgreSQL URL
/// without its password.
pub fn describe(url: &str) -> String {
    if url.starts_with("sqlite:") {
        if !checkpoints_in_background(url) {
            return "in memory".into();
        }
        return sqlite_file(url).map_or_else(|_| url.to_string(), |f| f.display().to_string());
    }
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "(an unreadable database URL)".into(),
    }
}

/// True for a SQLite file database: it runs in WAL mode with automatic checkpoints off, so the
/// server checkpoints it in the background ([`checkpoint`]). False for in-memory SQLite and
/// PostgreSQL.
pub fn checkpoints_in_background(url: &str) -> bool {
    url.starts_with("sqlite:") && !url.contains(":memory:") && !url.contains("mode=memory")
}

/// Copy the SQLite WAL's committed pages into the database file, without waiting for (or
/// blocking) readers and writers; the background task and bulk imports call it, as the
/// connections do not. Nothing on PostgreSQL.
pub async fn checkpoint(db: &DatabaseConnection) -> AppResult<()> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
        return Ok(());
    }
    db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await.map(|_| ()).map_err(AppError::from)
}

/// True when the database answers.
pub async fn ping(db: &DatabaseConnection) -> AppResult<()> {
    db.execute_unprepared("SELECT 1").await.map(|_| ()).map_err(AppError::from)
}

/// Refresh the planner's statistics of `tables` on PostgreSQL (nothing on SQLite). A bulk load
/// calls it as the tables grow: planned with the statistics of an empty table, a lookup of 2,000
/// keys scans the whole table once per key instead of probing its index.
pub async fn analyze(db: &impl ConnectionTrait, tables: &[&str]) -> AppResult<()> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared(&format!("ANALYZE {}", tables.join(", "))).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn sqlite_connections_plan_without_bound_values() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = super::connect(&url, 2, std::time::Duration::from_secs(1), super::Missing::Create, |_, _| {}).await.expect("connect");
        let mut conn = db.get_sqlite_connection_pool().acquire().await.expect("a connection");
        let mut handle = conn.lock_handle().await.expect("handle");
        let mut on: std::ffi::c_int = -1;
        // SAFETY: an open handle, locked; -1 reads the setting into `on`.
        let rc = unsafe { libsqlite3_sys::sqlite3_db_config(handle.as_raw_handle().as_ptr(), libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG, -1, &mut on as *mut std::ffi::c_int) };
        assert_eq!((rc, on), (libsqlite3_sys::SQLITE_OK, 1));
    }
}
