//! The application state: every service, built once from the configuration (database,
//! migrations, keys, first pool). Building it starts no task; see `app::Background`. Only the
//! server (and `pool create`) may create the database or migrate it; the other operator commands
//! open it as it is ([`Opening`]).

use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;

use crate::{
    config::Config,
    delivery::sender::Sender,
    domain::{
        acl::AclService,
        company::CompanyService,
        events::{EventBus, EventService},
        org_tree::OrgService,
        pools::{Bootstrap, PoolService, StoredEpochs},
        scim::{ScimService, tokens::ScimTokenService},
        users::UserService,
        webhooks::WebhookService,
        write::Writer,
    },
    error::AppResult,
    security::{secret_hash::Hasher, secret_seal::SecretSeal, throttle::CredentialThrottle, tokens::{TokenService, TokenSettings}},
    metrics::Metrics,
    storage::{self, Missing, WriteGate, schema, server_keys::{self, PasswordKeyring}},
};

/// What opening the state may do to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// The server: create the database when missing, apply pending migrations, make the first
    /// user pool.
    Serve,
    /// `orgraph pool create`: create and migrate like the server, but make no pool (the
    /// command makes the one asked for).
    Provision,
    /// Every other operator command: the database must exist with every migration applied;
    /// a mistyped URL is an error, not a new empty database.
    Existing,
}

/// What every request handler and resolver can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub writer: Writer,
    pub tokens: Arc<TokenService>,
    pub password_keys: Arc<PasswordKeyring>,
    pub pools: PoolService,
    pub users: UserService,
    pub orgs: OrgService,
    pub history: crate::domain::history::HistoryService,
    pub schedule: crate::domain::schedule::ScheduleService,
    pub company: CompanyService,
    pub events: EventService,
    pub webhooks: WebhookService,
    pub idempotency: crate::domain::idempotency::IdempotencyKeys,
    pub acl: AclService,
    pub scim: ScimService,
    pub scim_tokens: ScimTokenService,
    pub sender: Sender,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// Open as the server does: connect (creating the database if missing), migrate and load
    /// keys; create the first user pool when the database has none. Starts no task: see
    /// [`Background`].
    pub async fn open(config: Config) -> anyhow::Result<(Self, Bootstrap)> {
        Self::open_as(config, Opening::Serve).await
    }

    /// Open for `opening`; the bootstrap is `Unchanged` unless it is [`Opening::Serve`].
    pub async fn open_as(config: Config, opening: Opening) -> anyhow::Result<(Self, Bootstrap)> {
        let metrics = Metrics::new();
        let counted = metrics.clone();
        let write_wait = Duration::from_secs(config.db_write_wait_secs.max(1));
        let missing = if opening == Opening::Existing { Missing::Refuse } else { Missing::Create };
        let url = &config.database_url;
        let db = storage::connect(url, config.db_max_connections, write_wait, missing, move |t, failed| counted.statement(t, failed)).await?;
        match opening {
            Opening::Existing => schema::require_current(&db, &storage::describe(url)).await?,
            Opening::Serve | Opening::Provision => {
                let applied = schema::migrate(&db, &storage::describe(url)).await?;
                if !applied.is_empty() {
                    tracing::info!(migrations = %applied.join(", "), "applied the pending migrations");
                }
            }
        }
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
        let settings = TokenSettings {
            ttl: Duration::from_secs(config.token_ttl_secs),
            max_lifetime: Duration::from_secs(config.token_max_lifetime_secs),
            epoch_recheck: Duration::from_secs(config.token_revocation_check_secs),
        };
        let tokens = Arc::new(TokenService::new(&jwt_key, settings, Arc::new(StoredEpochs::new(db.clone())))?);
        let limits = &config.limits;
        let hasher = Hasher::new(limits.hash_concurrency);
        let throttle = Arc::new(CredentialThrottle::new(limits.auth_failures_per_minute, limits.auth_pool_failures_per_minute));
        let writer = Writer::new(WriteGate::new(db.clone(), write_wait), EventBus::default());
        let seal_key = server_keys::get_or_create(&db, server_keys::SECRET_SEAL_KEY, || async { Ok(SecretSeal::generate_key()) }).await?;
        let seal = SecretSeal::from_stored_key(&seal_key)?;
        let pools = PoolService::new(writer.clone(), hasher.clone(), throttle, seal.clone(), tokens.clone());
        let bootstrap = match opening {
            Opening::Serve => {
                let first_pool = pools.bootstrap(&config.bootstrap_pool_name, config.bootstrap_pool_id.clone(), config.bootstrap_pool_secret.clone());
                schema::one_instance_at_a_time(&db, async { Ok(first_pool.await?) }).await?
            }
            Opening::Provision | Opening::Existing => Bootstrap::Unchanged,
        };
        let users = UserService::new(writer.clone(), hasher);
        crate::domain::validate::identifier("scim-org-code", &config.scim_org_code)?;
        let previews = crate::domain::schedule::Previews::new(writer.clone());
        let state = AppState {
            scim: ScimService::new(writer.clone(), users.clone(), config.scim_org_code.clone()),
            scim_tokens: ScimTokenService::new(writer.clone()),
            users,
            orgs: OrgService::new(writer.clone()),
            history: crate::domain::history::HistoryService::new(writer.clone(), previews.clone(), config.history_retention_days),
            schedule: crate::domain::schedule::ScheduleService::new(writer.clone(), previews),
            company: CompanyService::new(writer.clone(), OrgService::new(writer.clone())),
            events: EventService::new(writer.clone()),
            webhooks: WebhookService::new(writer.clone()),
            idempotency: crate::domain::idempotency::IdempotencyKeys::new(writer.clone(), Duration::from_secs(config.limits.request_timeout_secs), write_wait, seal),
            acl: AclService::new(writer.clone()),
            sender: Sender::new(&config.webhooks)?,
            writer,
            metrics,
            pools,
            password_keys: Arc::new(PasswordKeyring::new(db.clone())),
            tokens,
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

