//! `orgraph migrate status|up|down`: the schema by hand. The server applies pending migrations
//! when it starts; these show them, apply them before starting new instances, or roll the last
//! ones back before running an older orgraph.

use std::time::Duration;

use crate::{
    config::Config,
    storage::{self, Missing, schema::{self, Migrations}},
};

/// Connect for a schema command: `missing` says whether a missing database may be created.
async fn connect(config: &Config, missing: Missing) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let wait = Duration::from_secs(config.db_write_wait_secs.max(1));
    storage::connect(&config.database_url, config.db_max_connections, wait, missing, |_, _| {}).await
}

/// Print every migration with its state (standard output: `applied NAME`, `pending NAME`,
/// `unknown NAME`), then what to do (standard error). Changes nothing.
pub async fn status(config: &Config) -> anyhow::Result<()> {
    let db = connect(config, Missing::Refuse).await?;
    let m = Migrations::read(&db).await?;
    for (name, applied) in &m.known {
        println!("{} {name}", if *applied { "applied" } else { "pending" });
    }
    for name in &m.unknown {
        println!("unknown {name}");
    }
    let database = storage::describe(&config.database_url);
    match m.problem(&database) {
        None => eprintln!("{database}: every migration is applied"),
        Some(problem) => eprintln!("{problem}"),
    }
    Ok(())
}

/// Apply the pending migrations (creating the database if it is missing and the URL allows it).
pub async fn up(config: &Config) -> anyhow::Result<()> {
    let db = connect(config, Missing::Create).await?;
    let database = storage::describe(&config.database_url);
    let applied = schema::migrate(&db, &database).await?;
    if applied.is_empty() {
        println!("nothing to apply: every migration of {database} is applied");
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(())
}

/// Roll back the last `steps` applied migrations, newest first.
pub async fn down(config: &Config, steps: u32) -> anyhow::Result<()> {
    let db = connect(config, Missing::Refuse).await?;
    let before = Migrations::read(&db).await?;
    let database = storage::describe(&config.database_url);
    // Pending migrations are no reason not to roll back the applied ones; the rest is.
    if (!before.is_orgraph() || !before.unknown.is_empty())
        && let Some(problem) = before.problem(&database)
    {
        anyhow::bail!("{problem}");
    }
    schema::roll_back(&db, steps).await?;
    let after = Migrations::read(&db).await?;
    for name in before.applied().into_iter().rev().filter(|n| !after.applied().contains(n)) {
        println!("rolled back {name}");
    }
    eprintln!("run the orgraph version that matches the schema now: this one's server applies them again when it starts");
    Ok(())
}
