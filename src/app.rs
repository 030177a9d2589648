//! The application: its shared state, start-up (database, migrations, keys, first pool) and the
//! HTTP server with graceful shutdown.

use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::{
    config::Config,
    domain::{
        events::{EventBus, EventService},
        org_tree::OrgService,
        pools::{Bootstrap, PoolService},
        users::UserService,
        webhooks::WebhookService,
    },
    delivery::sender::Sender,
    error::AppResult,
    graphql, http,
    security::{password_box::PasswordKeyring, tokens::TokenService},
    storage::{self, metrics::DbMetrics, server_keys},
};

/// What every request handler and resolver can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub tokens: Arc<TokenService>,
    pub password_keys: Arc<PasswordKeyring>,
    pub pools: PoolService,
    pub users: UserService,
    pub orgs: OrgService,
    pub events: EventService,
    pub webhooks: WebhookService,
    pub sender: Sender,
    pub db_metrics: Arc<DbMetrics>,
}

impl AppState {
    /// Connect, migrate and load keys. Creates the first user pool when the database has none.
    pub async fn start(config: Config) -> anyhow::Result<(Self, Bootstrap)> {
        let db_metrics = Arc::new(DbMetrics::default());
        let db = storage::connect(&config.database_url, config.db_max_connections, db_metrics.clone()).await?;
        storage::migrate(&db).await?;
        let jwt_key = match &config.jwt_secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                let stored = server_keys::get_or_create(&db, server_keys::JWT_SIGNING_KEY, || async {
                    Ok(crate::ids::random_hex(64))
                })
                .await?;
                stored.into_bytes()
            }
        };
        let tokens = TokenService::new(&jwt_key, Duration::from_secs(config.token_ttl_secs))?;
        let pools = PoolService::new(db.clone());
        let bus = EventBus::default();
        let sender = Sender::new(&config.webhooks)?;
        crate::delivery::worker::spawn(db.clone(), sender.clone(), config.webhooks.clone(), bus.clone());
        if !config.is_sqlite() {
            crate::domain::events::spawn_cross_instance_relay(config.database_url.clone(), db.clone(), bus.clone());
        }
        let bootstrap = pools
            .bootstrap(
                &config.bootstrap_pool_name,
                config.bootstrap_pool_id.clone(),
                config.bootstrap_pool_secret.clone(),
            )
            .await?;
        let state = AppState {
            users: UserService::new(db.clone(), bus.clone()),
            orgs: OrgService::new(db.clone(), bus.clone()),
            events: EventService::new(db.clone(), bus.clone()),
            webhooks: WebhookService::new(db.clone()),
            sender: sender.clone(),
            db_metrics,
            pools,
            password_keys: Arc::new(PasswordKeyring::new(db.clone())),
            tokens: Arc::new(tokens),
            db,
            config: Arc::new(config),
        };
        Ok((state, bootstrap))
    }

    /// Open a password the SDK may have encrypted with our public key.
    pub async fn open_password(&self, sent: &str) -> AppResult<String> {
        Ok(self.password_keys.get().await?.open(sent))
    }
}

/// Serve until `shutdown` resolves, then finish the requests in flight.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let schema = graphql::build_schema(state.clone());
    let router = http::router(state, schema);
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received, finishing requests in flight");
}
