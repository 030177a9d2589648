//! The database's schema against this binary's migrations: which are applied, applying them
//! (the server at start, `orgraph migrate up`) and rolling back (`orgraph migrate down`). The
//! other operator commands read the state and refuse to run on a database that is not orgraph's
//! or not migrated: they never migrate it themselves.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, FromQueryResult, TransactionTrait};

use crate::storage::{history, sql, tree};

/// The table sea-orm's migrator records applied migrations in.
const MIGRATIONS_TABLE: &str = "seaql_migrations";

/// Which of this binary's migrations the database has applied, and any it does not know.
#[derive(Debug, Clone)]
pub struct Migrations {
    /// This binary's migrations in order, each with whether it is applied.
    pub known: Vec<(String, bool)>,
    /// Applied migrations this binary does not have (a newer orgraph applied them).
    pub unknown: Vec<String>,
}

/// What keeps a command from running on the database, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub todo: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.todo)
    }
}

impl std::error::Error for Problem {}

impl Migrations {
    /// Read them without writing anything (no migrations table is made when there is none).
    pub async fn read(db: &impl ConnectionTrait) -> anyhow::Result<Self> {
        #[derive(FromQueryResult)]
        struct Applied {
            version: String,
        }
        let table_exists = match db.get_database_backend() {
            DatabaseBackend::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1",
            _ => "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
        };
        let applied: Vec<String> = if sql::count(db, table_exists, vec![MIGRATIONS_TABLE.into()]).await? > 0 {
            sql::all::<Applied>(db, &format!("SELECT version FROM {MIGRATIONS_TABLE}"), Vec::new()).await?.into_iter().map(|a| a.version).collect()
        } else {
            Vec::new()
        };
        let known: Vec<(String, bool)> = Migrator::migrations()
            .iter()
            .map(|m| {
                let name = m.name().to_string();
                let done = applied.contains(&name);
                (name, done)
            })
            .collect();
        let unknown = applied.into_iter().filter(|a| !known.iter().any(|(k, _)| k == a)).collect();
        Ok(Migrations { known, unknown })
    }

    pub fn pending(&self) -> Vec<&str> {
        self.known.iter().filter(|(_, done)| !done).map(|(n, _)| n.as_str()).collect()
    }

    pub fn applied(&self) -> Vec<&str> {
        self.known.iter().filter(|(_, done)| *done).map(|(n, _)| n.as_str()).collect()
    }

    /// True when orgraph has migrated this database at least once (an empty database, or
    /// another application's, has none of its migrations).
    pub fn is_orgraph(&self) -> bool {
        self.known.iter().any(|(_, done)| *done)
    }

    /// Why a command that needs every migration applied may not run; None when it may.
    /// `database` names the database in the message.
    pub fn problem(&self, database: &str) -> Option<Problem> {
        if !self.is_orgraph() && !self.unknown.is_empty() {
            return Some(Problem {
                what: format!("{database} is another application's database (its migrations are not orgraph's: {})", self.unknown.join(", ")),
                todo: "check --database-url / DATABASE_URL: orgraph needs a database of its own".into(),
            });
        }
        if !self.is_orgraph() {
            return Some(Problem {
                what: format!("{database} is not an orgraph database (none of orgraph's migrations is applied)"),
                todo: "check --database-url / DATABASE_URL; to make it one, run `orgraph migrate up` or start the server (`orgraph serve`)".into(),
            });
        }
        if !self.unknown.is_empty() {
            return Some(Problem {
                what: format!("{database} was migrated by a newer orgraph (migrations this one does not know: {})", self.unknown.join(", ")),
                todo: "run that newer version, or roll its migrations back with its `orgraph migrate down` first".into(),
            });
        }
        let pending = self.pending();
        if !pending.is_empty() {
            return Some(Problem {
                what: format!("{database}: {} migration(s) pending ({})", pending.len(), pending.join(", ")),
                todo: "take a backup, then run `orgraph migrate up` (or start the server, which applies them)".into(),
            });
        }
        None
    }
}

/// Refuse a database that is not orgraph's or has pending (or unknown) migrations.
pub async fn require_current(db: &DatabaseConnection, database: &str) -> anyhow::Result<()> {
    match Migrations::read(db).await?.problem(database) {
        Some(problem) => Err(problem.into()),
        None => Ok(()),
    }
}

/// Apply pending migrations, then make the listing trigger again if its columns changed; the
/// names of the migrations applied. A database with migrations this binary does not know is
/// refused (`database` names it). On PostgreSQL all of it is one transaction under an advisory
/// lock: instances starting together on an older database take turns, and the later ones find
/// nothing left to do.
pub async fn migrate(db: &DatabaseConnection, database: &str) -> anyhow::Result<Vec<String>> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let txn = db.begin().await?;
        lock(&txn).await?;
        let pending = pending(&txn, database).await?;
        Migrator::up(&txn, None).await?;
        tree::revision_trigger::ensure(&txn).await?;
        history::triggers::ensure(&txn).await?;
        txn.commit().await?;
        return Ok(pending);
    }
    // SQLite: a migration that rebuilds a table turns foreign keys off, which a transaction
    // would ignore; one process serves a SQLite file.
    let pending = pending(db, database).await?;
    Migrator::up(db, None).await?;
    tree::revision_trigger::ensure(db).await?;
    history::triggers::ensure(db).await?;
    Ok(pending)
}

/// The pending migrations, unless some applied ones are not this binary's: it cannot tell what
/// they did, nor apply its own after them.
async fn pending(db: &impl ConnectionTrait, database: &str) -> anyhow::Result<Vec<String>> {
    let m = Migrations::read(db).await?;
    if !m.unknown.is_empty()
        && let Some(problem) = m.problem(database)
    {
        return Err(problem.into());
    }
    Ok(m.pending().into_iter().map(str::to_string).collect())
}

/// Roll back the last `steps` applied migrations (under the same lock on PostgreSQL).
pub async fn roll_back(db: &DatabaseConnection, steps: u32) -> anyhow::Result<()> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let txn = db.begin().await?;
        lock(&txn).await?;
        Migrator::down(&txn, Some(steps)).await?;
        txn.commit().await?;
        return Ok(());
    }
    Migrator::down(db, Some(steps)).await?;
    Ok(())
}

/// Run `work` (a server's first-start setup: the first user pool) while no other instance
/// runs its own: on PostgreSQL under a transaction-scoped advisory lock held by a connection of
/// its own while `work` writes through the others, so instances starting together on an empty
/// database make one first pool, not one each. SQLite: one process serves a file.
pub async fn one_instance_at_a_time<T>(db: &DatabaseConnection, work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return work.await;
    }
    const START_LOCK: i64 = 0x6f72_6772_6170_6803; // "orgraph" + 3, after the schema lock's + 2
    let txn = db.begin().await?;
    sql::exec(&txn, "SELECT pg_advisory_xact_lock($1)", vec![START_LOCK.into()]).await?;
    let done = work.await;
    txn.commit().await?;
    done
}

/// The transaction-scoped advisory lock of schema changes (a key of its own, apart from the
/// event sequence's).
async fn lock(txn: &impl ConnectionTrait) -> anyhow::Result<()> {
    const SCHEMA_LOCK: i64 = 0x6f72_6772_6170_6802; // "orgraph" + 2 (events::EVENT_ORDER_LOCK is + 1)
    sql::exec(txn, "SELECT pg_advisory_xact_lock($1)", vec![SCHEMA_LOCK.into()]).await?;
    Ok(())
}
