//! Stamping a transaction's versions as it commits: the versions its triggers opened get its time
//! and actor as `valid_from`/`opened_by`, the ones they are closing get them as
//! `valid_to`/`closed_by`, and a version opened and closed within it (never seen by anyone) is
//! dropped. Only the transaction's own versions lack a time: every committed one has it.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend};

use super::triggers::versioned;
use crate::{error::AppResult, storage::sql::exec};

/// The statements that stamp one versioned table (`$1` the time, `$2` the actor).
fn statements(table: &str, backend: DatabaseBackend) -> [String; 3] {
    let (t, a) = match backend {
        DatabaseBackend::Sqlite => ("$1", "$2"),
        _ => ("t", "actor"),
    };
    [
        format!("DELETE FROM {table}_version WHERE valid_from IS NULL AND closing"),
        format!("UPDATE {table}_version SET valid_from = {t}, opened_by = {a} WHERE valid_from IS NULL"),
        format!("UPDATE {table}_version SET valid_to = {t}, closed_by = {a}, closing = FALSE WHERE closing"),
    ]
}

/// PostgreSQL's stamping function: one round trip, and the database's clock, which every
/// instance shares.
pub fn postgres_function() -> String {
    let body: Vec<String> = versioned().iter().flat_map(|v| statements(v.table, DatabaseBackend::Postgres)).collect();
    format!(
        "CREATE OR REPLACE FUNCTION orgraph_stamp_versions(actor varchar, given timestamptz) RETURNS void LANGUAGE plpgsql AS $f$
         DECLARE t timestamptz := COALESCE(given, clock_timestamp());
         BEGIN {}; END $f$",
        body.join(";\n")
    )
}

/// The stamping function as instances before it took a time call it, during a rolling upgrade.
pub fn postgres_compat_function() -> String {
    "CREATE OR REPLACE FUNCTION orgraph_stamp_versions(actor varchar) RETURNS void LANGUAGE sql AS \
     $f$ SELECT orgraph_stamp_versions(actor, NULL::timestamptz) $f$"
        .to_string()
}

/// The last time stamped by this process (SQLite: one process writes), in microseconds: a clock
/// set back cannot make a version end before it began.
static LAST: AtomicI64 = AtomicI64::new(0);

fn next_time() -> DateTime<Utc> {
    let now = Utc::now().timestamp_micros();
    let at = LAST.fetch_max(now, Ordering::SeqCst).max(now);
    DateTime::from_timestamp_micros(at).unwrap_or_else(Utc::now)
}

/// The clock versions are stamped by: PostgreSQL's (every instance shares it), else this
/// process's.
pub async fn clock(db: &impl ConnectionTrait) -> AppResult<DateTime<Utc>> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(Utc::now());
    }
    #[derive(sea_orm::FromQueryResult)]
    struct Now {
        t: DateTime<Utc>,
    }
    let now: Vec<Now> = crate::storage::sql::all(db, "SELECT clock_timestamp() AS t", Vec::new()).await?;
    Ok(now.first().map_or_else(Utc::now, |n| n.t))
}

/// Stamp the versions of the transaction `db` with its commit's time and `actor`.
pub async fn stamp(db: &impl ConnectionTrait, actor: &str) -> AppResult<()> {
    stamp_at(db, actor, None).await
}

/// The same with a given time (`None`: the commit's): a preview of a scheduled batch stamps its
/// changes with the batch's time, in a transaction it rolls back.
pub async fn stamp_at(db: &impl ConnectionTrait, actor: &str, at: Option<DateTime<Utc>>) -> AppResult<()> {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let at = at.unwrap_or_else(next_time);
            for v in versioned() {
                for s in statements(v.table, DatabaseBackend::Sqlite) {
                    let values = if s.contains("$1") { vec![at.into(), actor.into()] } else { Vec::new() };
                    exec(db, &s, values).await?;
                }
            }
        }
        _ => {
            exec(db, "SELECT orgraph_stamp_versions($1, $2)", vec![actor.into(), at.into()]).await?;
        }
    }
    Ok(())
}
