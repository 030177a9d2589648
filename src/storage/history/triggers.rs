//! The triggers that keep versions of `org`, `node`, `membership` and `node_leader` rows (see
//! migration 13): a row inserted opens a version; a row updated in a column its versions keep
//! closes the current version and opens one; a row deleted (cascades included) closes it. The
//! versions they open or close carry no time: the commit stamps them (`stamp`). The column lists
//! come from the entities, so a column added to a table later is kept without naming it here;
//! at start-up, after the migrations, the triggers are made again when their text changed.

use entity::{membership, node, node_leader, org, user};
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, Iterable, TransactionSession, TransactionTrait};
use sha2::{Digest, Sha256};

use crate::{
    error::{AppError, AppResult},
    storage::sql::{all, exec},
};

/// A table whose rows have versions.
pub struct Versioned {
    pub table: &'static str,
    pub keys: &'static [&'static str],
    /// The columns its versions keep, keys included.
    pub columns: Vec<&'static str>,
    /// The table's other columns, and what a version read as a row has in their place.
    pub unkept: &'static [(&'static str, &'static str)],
}

impl Versioned {
    fn of<C: Iterable + sea_orm::IdenStatic>(table: &'static str, keys: &'static [&'static str], unkept: &'static [(&'static str, &'static str)]) -> Self {
        let columns = C::iter().map(|c| c.as_str()).filter(|c| !unkept.iter().any(|(u, _)| u == c)).collect();
        Versioned { table, keys, columns, unkept }
    }
}

/// Every versioned table. A node's depth and counters are derived (from the parents, from the
/// memberships), so its versions do not keep them: a move would otherwise version a subtree. A
/// user's versions keep no password hash.
pub fn versioned() -> Vec<Versioned> {
    const NODE_DERIVED: &[(&str, &str)] =
        &[("depth", "CAST(0 AS INTEGER)"), ("member_count", "CAST(0 AS BIGINT)"), ("subtree_member_count", "CAST(0 AS BIGINT)")];
    vec![
        Versioned::of::<user::Column>("users", &["id"], &[("password_hash", "CAST(NULL AS TEXT)")]),
        Versioned::of::<org::Column>("org", &["id"], &[]),
        Versioned::of::<node::Column>("node", &["id"], NODE_DERIVED),
        Versioned::of::<membership::Column>("membership", &["node_id", "user_id"], &[]),
        Versioned::of::<node_leader::Column>("node_leader", &["node_id", "user_id"], &[]),
    ]
}

fn quoted(columns: &[&str], prefix: &str) -> String {
    columns.iter().map(|c| format!("{prefix}\"{c}\"")).collect::<Vec<_>>().join(", ")
}

impl Versioned {
    fn watched(&self) -> Vec<&'static str> {
        self.columns.iter().copied().filter(|c| !self.keys.contains(c)).collect()
    }

    fn current(&self, closing: &str) -> String {
        let keys: Vec<String> = self.keys.iter().map(|k| format!("\"{k}\" = OLD.\"{k}\"")).collect();
        format!("UPDATE {t}_version SET closing = {closing} WHERE {} AND valid_to IS NULL AND NOT closing", keys.join(" AND "), t = self.table)
    }

    fn open(&self) -> String {
        format!("INSERT INTO {t}_version ({}) VALUES ({})", quoted(&self.columns, ""), quoted(&self.columns, "NEW."), t = self.table)
    }

    /// The statements that make the triggers, in order.
    fn statements(&self, backend: DatabaseBackend) -> Vec<String> {
        let t = self.table;
        let watched = self.watched();
        match backend {
            DatabaseBackend::Sqlite => {
                let changed: Vec<String> = watched.iter().map(|c| format!("OLD.\"{c}\" IS NOT NEW.\"{c}\"")).collect();
                vec![
                    format!("CREATE TRIGGER {t}_version_insert AFTER INSERT ON {t} BEGIN {}; END", self.open()),
                    format!(
                        "CREATE TRIGGER {t}_version_update AFTER UPDATE OF {} ON {t} WHEN {} BEGIN {}; {}; END",
                        quoted(&watched, ""),
                        changed.join(" OR "),
                        self.current("TRUE"),
                        self.open()
                    ),
                    format!("CREATE TRIGGER {t}_version_delete AFTER DELETE ON {t} BEGIN {}; END", self.current("TRUE")),
                ]
            }
            _ => vec![
                format!(
                    "CREATE OR REPLACE FUNCTION orgraph_{t}_version() RETURNS trigger LANGUAGE plpgsql AS $f$
                     BEGIN
                       IF TG_OP <> 'INSERT' THEN {}; END IF;
                       IF TG_OP <> 'DELETE' THEN {}; END IF;
                       RETURN NULL;
                     END $f$",
                    self.current("true"),
                    self.open()
                ),
                format!("CREATE TRIGGER {t}_version_change AFTER INSERT OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION orgraph_{t}_version()"),
                format!(
                    "CREATE TRIGGER {t}_version_update AFTER UPDATE OF {} ON {t} FOR EACH ROW WHEN (ROW({}) IS DISTINCT FROM ROW({}))
                     EXECUTE FUNCTION orgraph_{t}_version()",
                    quoted(&watched, ""),
                    quoted(&watched, "OLD."),
                    quoted(&watched, "NEW.")
                ),
            ],
        }
    }

    fn drops(&self, backend: DatabaseBackend) -> Vec<String> {
        let t = self.table;
        ["insert", "update", "delete", "change"]
            .iter()
            .map(|op| match backend {
                DatabaseBackend::Sqlite => format!("DROP TRIGGER IF EXISTS {t}_version_{op}"),
                _ => format!("DROP TRIGGER IF EXISTS {t}_version_{op} ON {t}"),
            })
            .collect()
    }
}

/// Every statement that makes the triggers (and, on PostgreSQL, the stamping function).
fn statements(backend: DatabaseBackend) -> Vec<String> {
    let mut all: Vec<String> = versioned().iter().flat_map(|v| v.statements(backend)).collect();
    if backend == DatabaseBackend::Postgres {
        all.push(super::stamp::postgres_function());
        all.push(super::stamp::postgres_compat_function());
    }
    all
}

/// A fingerprint of every trigger's text.
fn fingerprint(backend: DatabaseBackend) -> String {
    let mut hash = Sha256::new();
    for s in statements(backend) {
        hash.update(s.as_bytes());
    }
    hex::encode(hash.finalize())
}

#[derive(FromQueryResult)]
struct Text {
    text: Option<String>,
}

/// The columns `table` has in the database.
async fn columns_of(db: &impl ConnectionTrait, table: &str) -> AppResult<Vec<String>> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => "SELECT name AS text FROM pragma_table_info($1)",
        _ => "SELECT column_name::text AS text FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema()",
    };
    let rows: Vec<Text> = all(db, sql, vec![table.into()]).await?;
    Ok(rows.into_iter().filter_map(|r| r.text).collect())
}

/// Whether the database holds exactly this binary's triggers: on SQLite their text is kept as
/// written; on PostgreSQL a fingerprint of it is the node function's comment.
async fn current(db: &impl ConnectionTrait) -> AppResult<bool> {
    let backend = db.get_database_backend();
    if backend == DatabaseBackend::Sqlite {
        let rows: Vec<Text> = all(db, "SELECT sql AS text FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%\\_version\\_%' ESCAPE '\\'", Vec::new()).await?;
        let mut present: Vec<String> = rows.into_iter().filter_map(|r| r.text).collect();
        let mut wanted = statements(backend);
        present.sort();
        wanted.sort();
        return Ok(present == wanted);
    }
    let sql = "SELECT obj_description(to_regprocedure('orgraph_node_version()'), 'pg_proc') AS text";
    let rows: Vec<Text> = all(db, sql, Vec::new()).await?;
    Ok(rows.into_iter().next().and_then(|t| t.text).as_deref() == Some(fingerprint(backend).as_str()))
}

/// Make the triggers again when they are not this binary's. A version table that lacks a column
/// its table's versions keep is refused by name: the migration that added the column to the
/// table must add it to the versions too.
pub async fn ensure(db: &(impl ConnectionTrait + TransactionTrait)) -> AppResult<()> {
    if current(db).await? {
        return Ok(());
    }
    let backend = db.get_database_backend();
    for v in versioned() {
        let present = columns_of(db, &format!("{}_version", v.table)).await?;
        if let Some(missing) = v.columns.iter().find(|c| !present.iter().any(|p| p == *c)) {
            return Err(AppError::Internal(anyhow::anyhow!(
                "{t}_version has no column {missing}: the migration that added it to {t} must add it to {t}_version too",
                t = v.table
            )));
        }
    }
    let txn = db.begin().await?;
    for s in versioned().iter().flat_map(|v| v.drops(backend)).chain(statements(backend)) {
        exec(&txn, &s, Vec::new()).await?;
    }
    if backend == DatabaseBackend::Postgres {
        exec(&txn, &format!("COMMENT ON FUNCTION orgraph_node_version() IS '{}'", fingerprint(backend)), Vec::new()).await?;
    }
    txn.commit().await?;
    tracing::info!("made the version triggers again");
    Ok(())
}
