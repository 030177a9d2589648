//! Command line: `orgraph` (or `orgraph serve`) runs the server; `orgraph pool ...` manages user
//! pools; `orgraph scim-token ...` their SCIM tokens; `orgraph schema` prints the GraphQL SDL;
//! `orgraph import`, `export`, `doctor`, `backup` and `migrate` are the operator tools (`tools`).
//! Only `serve`, `pool create` and `migrate up` may create a database; the others need an
//! existing, migrated one (`state::Opening`).

use clap::{Parser, Subcommand};

use crate::{
    app::{self, Background},
    state::{AppState, Opening},
    config::Config,
    domain::pools::{Bootstrap, NewPool},
    graphql, telemetry,
    domain::company::{ExportOptions, ImportOptions},
    tools::{self, files::Format},
};

#[derive(Debug, Parser)]
#[command(name = "orgraph", version, about = "GraphQL server for organization management (Authing-compatible)")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage user pools.
    #[command(subcommand)]
    Pool(PoolCommand),
    /// Manage a pool's SCIM tokens (the bearer tokens identity providers use on /scim/v2).
    #[command(subcommand, name = "scim-token")]
    ScimToken(ScimTokenCommand),
    /// Print the GraphQL schema (SDL), as `schema.graphql` holds it.
    Schema,
    /// Import a whole company (departments, users, memberships, main departments, leaders, with
    /// their ids and times; the pool's custom event types, permissions and webhooks) from a JSON
    /// file or a folder of CSV files, in batches; run it again to finish an interrupted one.
    Import {
        #[arg(long)]
        pool: String,
        /// A `.json` file, or a folder with nodes.csv, users.csv, memberships.csv and the other
        /// tables' files.
        path: std::path::PathBuf,
        /// The format (by default: a folder is CSV, a file JSON).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Rows per transaction.
        #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=50_000))]
        batch_size: u64,
        /// Stop after this many rows (users, departments, memberships, event apps, event types,
        /// namespaces, resources, grants, webhooks, in that order); run again to go on.
        #[arg(long)]
        limit: Option<usize>,
        /// Give every organization, department, user, resource, grant, webhook, event app and
        /// event type a new id instead of the file's (for files meant as templates). Without it the file's ids are kept, and a row whose id belongs to
        /// another pool is refused.
        #[arg(long)]
        new_ids: bool,
    },
    /// Export a pool's whole company (and its custom event types, permissions and webhooks) to a
    /// JSON file or a folder of CSV files.
    Export {
        #[arg(long)]
        pool: String,
        /// A `.json` file, or a folder (created) for nodes.csv, users.csv, memberships.csv and the
        /// other tables' files.
        path: std::path::PathBuf,
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Include the users' password hashes (Argon2 PHC strings; import keeps them as they are).
        #[arg(long)]
        with_password_hashes: bool,
        /// Include the webhooks' signing secrets (import keeps them, so receivers verify deliveries
        /// as before); without it, imported webhooks get new secrets.
        #[arg(long)]
        with_webhook_secrets: bool,
    },
    /// Check the database, its migrations, every org tree and the webhook delivery queue; exit
    /// status 1 when something is wrong.
    Doctor {
        /// Recount the members of every department of the organizations whose check fails.
        #[arg(long)]
        repair: bool,
    },
    /// Copy the SQLite database, while the server runs, into FILE (a new file; an existing one
    /// is refused). On PostgreSQL use pg_dump.
    Backup {
        /// The copy to write.
        file: std::path::PathBuf,
    },
    /// Show, apply or roll back the database's schema migrations (the server applies pending
    /// ones when it starts).
    #[command(subcommand)]
    Migrate(MigrateCommand),
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// List every migration, applied or pending.
    Status,
    /// Apply the pending migrations (creating the database if it is missing).
    Up,
    /// Roll back the last applied migrations, newest first, before running an older orgraph.
    Down {
        /// How many to roll back.
        #[arg(short = 'n', long = "steps", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        steps: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScimTokenCommand {
    /// Create a token and print it (once: only its SHA-256 is stored).
    Create {
        #[arg(long)]
        pool: String,
        #[arg(long, default_value = "scim")]
        name: String,
    },
    /// List a pool's tokens (id, name, creation time; never their values).
    List {
        #[arg(long)]
        pool: String,
    },
    /// Revoke a token by its id.
    Revoke {
        #[arg(long)]
        pool: String,
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PoolCommand {
    /// Create a user pool and print its id and secret.
    Create {
        #[arg(long, default_value = "default")]
        name: String,
        #[arg(long)]
        id: Option<String>,
        #[arg(long, hide_env_values = true)]
        secret: Option<String>,
    },
    /// List user pools.
    List,
    /// Give a pool a new random secret and print it.
    ResetSecret { id: String },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(&cli.config.log_level, cli.config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await,
        Command::Doctor { repair } => {
            let report = tools::doctor::run(&cli.config, repair).await?;
            anyhow::ensure!(report.problems == 0, "doctor found {} problem(s)", report.problems);
            Ok(())
        }
        Command::Backup { file } => tools::backup::run(&cli.config, &file).await,
        Command::Migrate(cmd) => match cmd {
            MigrateCommand::Status => tools::migrate::status(&cli.config).await,
            MigrateCommand::Up => tools::migrate::up(&cli.config).await,
            MigrateCommand::Down { steps } => tools::migrate::down(&cli.config, steps).await,
        },
        Command::Import { pool, path, format, batch_size, limit, new_ids } => {
            let (state, _) = AppState::open_as(cli.config, Opening::Existing).await?;
            let options = ImportOptions { batch: batch_size as usize, limit, new_ids };
            tools::import(&state, &pool, &path, format, options).await.map(|_| ())
        }
        Command::Export { pool, path, format, with_password_hashes, with_webhook_secrets } => {
            let (state, _) = AppState::open_as(cli.config, Opening::Existing).await?;
            let options = ExportOptions { with_password_hashes, with_webhook_secrets };
            tools::export(&state, &pool, &path, format, options).await
        }
        Command::Schema => {
            print!("{}", graphql::sdl(&graphql::bare_schema()));
            Ok(())
        }
        Command::ScimToken(cmd) => {
            let (state, _) = AppState::open_as(cli.config, Opening::Existing).await?;
            match cmd {
                ScimTokenCommand::Create { pool, name } => {
                    let pool = state.pools.named(&pool).await?;
                    let t = state.scim_tokens.create(&pool, &name).await?;
                    println!("SCIM token created (keep it: it is stored hashed and cannot be shown again)");
                    println!("id:    {}", t.token.id);
                    println!("name:  {}", t.token.name);
                    println!("token: {}", t.secret);
                }
                ScimTokenCommand::List { pool } => {
                    let pool = state.pools.named(&pool).await?;
                    for t in state.scim_tokens.list(&pool).await? {
                        println!("{}\t{}\t{}", t.id, t.name, t.created_at.to_rfc3339());
                    }
                }
                ScimTokenCommand::Revoke { pool, id } => {
                    let pool = state.pools.named(&pool).await?;
                    state.scim_tokens.revoke(&pool, &id).await?;
                    println!("SCIM token {id} revoked");
                }
            }
            Ok(())
        }
        Command::Pool(cmd) => {
            // Creating a pool may be the first thing done with a new database (before the first
            // start); listing and changing one need it to exist.
            let opening = if matches!(cmd, PoolCommand::Create { .. }) { Opening::Provision } else { Opening::Existing };
            let (state, _) = AppState::open_as(cli.config, opening).await?;
            match cmd {
                PoolCommand::Create { name, id, secret } => {
                    print_pool(&state.pools.create(&name, id, secret).await?);
                }
                PoolCommand::List => {
                    for p in state.pools.list().await? {
                        println!("{}\t{}\t{}", p.id, p.name, p.created_at.to_rfc3339());
                    }
                }
                PoolCommand::ResetSecret { id } => {
                    let secret = state.pools.reset_secret(&id).await?;
                    println!("userPoolId: {id}\nsecret:     {secret}");
                }
            }
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let (state, bootstrap) = AppState::open(config).await?;
    report_bootstrap(&bootstrap);
    let listeners = app::Listeners::bind(&state.config).await?;
    let addr = listeners.main.local_addr()?;
    let background = Background::start(&state).await?;
    let playground = state.config.graphiql;
    tracing::info!(%addr, startup_ms = started.elapsed().as_millis() as u64, "orgraph listening; GraphQL (and its playground) on http://{addr}/graphql");
    if let (true, Some(reason)) = (playground, crate::http::playground::not_built_reason()) {
        tracing::warn!(reason, "the GraphQL playground was not built into this binary: GET /graphql serves a fallback page");
    }
    match (&listeners.metrics, state.config.metrics.on_main_port()) {
        (Some(metrics), _) => tracing::info!(addr = %metrics.local_addr()?, token = state.config.metrics.token.is_some(), "/metrics served on its own address"),
        (None, true) => tracing::info!(token = state.config.metrics.token.is_some(), "/metrics served on the main address"),
        (None, false) => tracing::info!("/metrics is not served: give --metrics-listen, --metrics-token or --metrics-public"),
    }
    app::serve(state, listeners, app::shutdown_signal()).await?;
    background.stop().await;
    tracing::info!("orgraph stopped");
    Ok(())
}

fn report_bootstrap(b: &Bootstrap) {
    match b {
        Bootstrap::Created(pool) => {
            tracing::info!(user_pool_id = %pool.id, "created the first user pool");
            print_pool(pool);
        }
        Bootstrap::SecretSet { id } => tracing::info!(user_pool_id = %id, "user pool secret set from configuration"),
        Bootstrap::Unchanged => {}
    }
}

/// The secret goes to standard output once, never into the log.
fn print_pool(pool: &NewPool) {
    println!("user pool created (keep the secret: it is stored hashed and cannot be shown again)");
    println!("userPoolId: {}", pool.id);
    println!("secret:     {}", pool.secret);
    println!("name:       {}", pool.name);
}
