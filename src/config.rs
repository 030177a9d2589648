//! Runtime configuration, read from CLI flags and the environment (clap). `--help` lists all.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};

/// Everything the server needs to run. Every flag has an environment variable of the same meaning,
/// and is global: it may come before or after the subcommand (`orgraph serve --listen ...`).
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address and port the HTTP server listens on.
    #[arg(long, global = true, env = "ORGRAPH_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Database URL: `sqlite://FILE?mode=rwc` (embedded, the default) or
    /// `postgres://USER@HOST:PORT/DB`. Only `serve`, `pool create` and `migrate up` create a
    /// missing SQLite file or orgraph's tables; the other commands need them to exist.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = "sqlite://orgraph.db?mode=rwc")]
    pub database_url: String,

    /// Connections in the database pool (SQLite: readers and the writer share it; writes take
    /// the database lock with BEGIN IMMEDIATE).
    #[arg(long, global = true, env = "ORGRAPH_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,

    /// Longest a write waits for its turn (SQLite: the in-process writer queue; PostgreSQL: a
    /// row or advisory lock) before it is answered SERVICE_UNAVAILABLE (503, Retry-After), in
    /// seconds.
    #[arg(long, global = true, env = "ORGRAPH_DB_WRITE_WAIT_SECS", default_value_t = 10)]
    pub db_write_wait_secs: u64,

    /// Memory for cached whole-org listings (`org { nodes { ... } }` with plain fields), in MiB;
    /// 0 turns the cache off. An entry is dropped when its org's tree changes.
    #[arg(long, global = true, env = "ORGRAPH_LISTING_CACHE_MB", default_value_t = 64)]
    pub listing_cache_mb: usize,

    /// HMAC key (HS256) that signs access tokens, at least 32 bytes. When absent, a random key
    /// is generated on first start and kept in the database, so all instances share it.
    #[arg(long, global = true, env = "ORGRAPH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of an access token, in seconds.
    #[arg(long, global = true, env = "ORGRAPH_TOKEN_TTL_SECS", default_value_t = 86_400)]
    pub token_ttl_secs: u64,

    /// Log filter in `tracing` syntax, e.g. `info` or `orgraph=debug,sea_orm=warn`.
    #[arg(long, global = true, env = "ORGRAPH_LOG", default_value = "info")]
    pub log_level: String,

    /// Log line format.
    #[arg(long, global = true, env = "ORGRAPH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Id of the user pool created on an empty database (random when absent). If a pool of this
    /// id does not exist yet at start, it is created.
    #[arg(long, global = true, env = "ORGRAPH_BOOTSTRAP_POOL_ID")]
    pub bootstrap_pool_id: Option<String>,

    /// Secret of that first pool (random when absent; printed once). When given, the pool's
    /// secret is set to it at every start.
    #[arg(long, global = true, env = "ORGRAPH_BOOTSTRAP_POOL_SECRET", hide_env_values = true)]
    pub bootstrap_pool_secret: Option<String>,

    /// Display name of that first pool.
    #[arg(long, global = true, env = "ORGRAPH_BOOTSTRAP_POOL_NAME", default_value = "default")]
    pub bootstrap_pool_name: String,

    /// Serve the GraphiQL playground on `GET /graphql`.
    #[arg(long, global = true, env = "ORGRAPH_GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set)]
    pub graphiql: bool,

    /// Code of the organization whose departments are SCIM's groups, in every pool (created on a
    /// pool's first SCIM group).
    #[arg(long, global = true, env = "ORGRAPH_SCIM_ORG_CODE", default_value = "scim")]
    pub scim_org_code: String,

    #[command(flatten)]
    pub limits: Limits,

    #[command(flatten)]
    pub webhooks: WebhookConfig,
}

/// Webhook delivery.
#[derive(Debug, Clone, Args)]
pub struct WebhookConfig {
    /// Hosts or IP addresses webhooks may reach although they are loopback, private,
    /// link-local or metadata addresses (comma-separated; by default none).
    #[arg(global = true, long = "webhook-allow-hosts", env = "ORGRAPH_WEBHOOK_ALLOW_HOSTS", value_delimiter = ',')]
    pub allow_hosts: Vec<String>,

    /// Time one delivery request may take, in seconds.
    #[arg(global = true, long = "webhook-timeout-secs", env = "ORGRAPH_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub timeout_secs: u64,

    /// Waits before each retry, in seconds (comma-separated); ±20% jitter is added. After the
    /// last one a delivery is marked failed.
    #[arg(global = true, long = "webhook-retry-schedule", env = "ORGRAPH_WEBHOOK_RETRY_SCHEDULE", value_delimiter = ',',
          default_value = "10,60,300,1800,7200,21600")]
    pub retry_schedule_secs: Vec<f64>,

    /// A webhook whose deliveries failed this many times in a row is disabled.
    #[arg(global = true, long = "webhook-max-failures", env = "ORGRAPH_WEBHOOK_MAX_FAILURES", default_value_t = 50)]
    pub max_consecutive_failures: i32,

    /// How often the delivery worker looks for due deliveries, in milliseconds (it also wakes
    /// at once when this instance commits an event).
    #[arg(global = true, long = "webhook-poll-ms", env = "ORGRAPH_WEBHOOK_POLL_MS", default_value_t = 500)]
    pub poll_ms: u64,

    /// Deliveries sent at once by one instance.
    #[arg(global = true, long = "webhook-concurrency", env = "ORGRAPH_WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub concurrency: u64,

    /// Send deliveries through this HTTP(S) proxy. Environment proxies (HTTP_PROXY, ...) are
    /// never used. With a proxy, the proxy resolves the webhook's host itself: orgraph checks the
    /// host's addresses before each request, but cannot stop the proxy from reaching another
    /// address if the name's DNS answer changes in between (see README, "Limits and abuse").
    #[arg(global = true, long = "webhook-proxy", env = "ORGRAPH_WEBHOOK_PROXY")]
    pub proxy: Option<String>,
}

/// Limits that protect a public endpoint.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Deepest nesting of fields a GraphQL query may have.
    #[arg(long, global = true, env = "ORGRAPH_MAX_QUERY_DEPTH", default_value_t = 16)]
    pub max_query_depth: usize,

    /// Largest complexity (number of fields, list fields weighted) a GraphQL query may have.
    #[arg(long, global = true, env = "ORGRAPH_MAX_QUERY_COMPLEXITY", default_value_t = 5_000)]
    pub max_query_complexity: usize,

    /// Largest GraphQL document, in bytes.
    #[arg(long, global = true, env = "ORGRAPH_MAX_QUERY_BYTES", default_value_t = 100_000)]
    pub max_query_bytes: usize,

    /// Most selections (fields, fragment spreads) an operation may have once every spread is
    /// expanded; checked before validation, so a document that expands exponentially costs
    /// microseconds.
    #[arg(long, global = true, env = "ORGRAPH_MAX_QUERY_NODES", default_value_t = 10_000)]
    pub max_query_nodes: u64,

    /// Most root fields (aliases included) one operation may select.
    #[arg(long, global = true, env = "ORGRAPH_MAX_ROOT_FIELDS", default_value_t = 32)]
    pub max_root_fields: u64,

    /// Largest request body, in bytes.
    #[arg(long, global = true, env = "ORGRAPH_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,

    /// Largest body of `POST /api/v2/orgs/import`, in bytes.
    #[arg(long, global = true, env = "ORGRAPH_MAX_IMPORT_BYTES", default_value_t = 32 << 20)]
    pub max_import_bytes: usize,

    /// Most closure rows (one per node and ancestor, itself included) one import may create:
    /// it bounds how long an import holds the write lock.
    #[arg(long, global = true, env = "ORGRAPH_MAX_IMPORT_CLOSURE_ROWS", default_value_t = 500_000)]
    pub max_import_closure_rows: usize,

    /// Largest `limit` a paginated list accepts; larger values are refused, not clamped.
    #[arg(long, global = true, env = "ORGRAPH_MAX_PAGE_SIZE", default_value_t = 200)]
    pub max_page_size: u64,

    /// Most nodes one page of `orgs` may list when it selects `nodes` (summed over its orgs);
    /// a larger page is refused, so a request cannot list every org of a pool at once.
    #[arg(long, global = true, env = "ORGRAPH_MAX_LISTED_NODES", default_value_t = 100_000)]
    pub max_listed_nodes: u64,

    /// Requests running longer than this are cancelled, in seconds.
    #[arg(long, global = true, env = "ORGRAPH_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// A client must send a request's headers within this many seconds, or its connection is
    /// closed (slow or half-open clients).
    #[arg(long, global = true, env = "ORGRAPH_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,

    /// Most TCP connections served at once (WebSockets included); beyond, new connections
    /// wait in the listen backlog.
    #[arg(long, global = true, env = "ORGRAPH_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Failed credential checks (`accessToken`, `get-management-token`) one client address may
    /// make per minute; a successful check costs a tenth of a failed one.
    #[arg(long, global = true, env = "ORGRAPH_AUTH_FAILURES_PER_MINUTE", default_value_t = 20)]
    pub auth_failures_per_minute: u32,

    /// Failed credential checks per minute against one user pool id, from all addresses.
    #[arg(long, global = true, env = "ORGRAPH_AUTH_POOL_FAILURES_PER_MINUTE", default_value_t = 100)]
    pub auth_pool_failures_per_minute: u32,

    /// Password and secret hashes (Argon2id, ~19 MiB and some milliseconds of CPU each) computed
    /// at once, server-wide; 0 means one per CPU core.
    #[arg(long, global = true, env = "ORGRAPH_HASH_CONCURRENCY", default_value_t = 0)]
    pub hash_concurrency: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}
