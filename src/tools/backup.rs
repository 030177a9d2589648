//! `orgraph backup FILE`: a consistent copy of a live SQLite database into a new file. A
//! PostgreSQL database is backed up with its own tools (pg_dump), which the message names.

use std::{path::Path, time::{Duration, Instant}};

use crate::{
    config::Config,
    storage::{self, Missing, schema::Migrations},
};

pub async fn run(config: &Config, target: &Path) -> anyhow::Result<()> {
    let url = &config.database_url;
    anyhow::ensure!(
        config.is_sqlite(),
        "`orgraph backup` copies SQLite databases; back up PostgreSQL with pg_dump, e.g. `pg_dump --format=custom --file orgraph.dump \"$DATABASE_URL\"` (see the operations guide, backup and restore)"
    );
    anyhow::ensure!(storage::checkpoints_in_background(url), "an in-memory database has nothing to back up");
    let started = Instant::now();
    let wait = Duration::from_secs(config.db_write_wait_secs.max(1));
    let db = storage::connect(url, 1, wait, Missing::Refuse, |_, _| {}).await?;
    let source = storage::describe(url);
    // Pending migrations do not stop a backup: taking one is the first step of an upgrade.
    let migrations = Migrations::read(&db).await?;
    if !migrations.is_orgraph()
        && let Some(problem) = migrations.problem(&source)
    {
        anyhow::bail!("{problem}");
    }
    let bytes = storage::backup::sqlite_into(&db, target).await?;
    println!(
        "backed up {source} to {} ({bytes} bytes) in {:.1} s; keep it private: it holds the server's keys and every password hash",
        target.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
