//! Runtime configuration, read from CLI flags and the environment (clap). `--help` lists all.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};
use ipnet::IpNet;

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

    /// Memory for the documents of Apollo's automatic persisted queries on `/graphql` (kept per
    /// pool, by SHA-256), in MiB; 0 turns them off (`PERSISTED_QUERY_NOT_SUPPORTED`).
    #[arg(long, global = true, env = "ORGRAPH_PERSISTED_QUERIES_MB", default_value_t = 16)]
    pub persisted_queries_mb: usize,

    /// How long the org chart's history is kept, in days: versions of departments, memberships
    /// and leaders that ended longer ago are deleted (hourly). Absent: kept forever.
    #[arg(long, global = true, env = "ORGRAPH_HISTORY_RETENTION_DAYS", value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub history_retention_days: Option<u32>,

    /// A manifest of trusted documents (the JSON of Apollo's `generate-persisted-query-manifest`
    /// or of graphql-codegen's persisted documents): `/graphql` then runs only those, named by
    /// `documentId` or Apollo's persisted-query hash, and refuses any other document with
    /// PERSISTED_QUERY_NOT_IN_LIST. `/graphql/v2` (Authing's SDKs) is not restricted.
    #[arg(long, global = true, env = "ORGRAPH_TRUSTED_DOCUMENTS")]
    pub trusted_documents: Option<std::path::PathBuf>,

    /// With `--trusted-documents`: the playground's requests (with a valid access token) may run
    /// any document.
    #[arg(long, global = true, env = "ORGRAPH_TRUSTED_DOCUMENTS_PLAYGROUND")]
    pub trusted_documents_playground: bool,

    /// HMAC key (HS256) that signs access tokens, at least 32 bytes. When absent, a random key
    /// is generated on first start and kept in the database, so all instances share it.
    #[arg(long, global = true, env = "ORGRAPH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of an access token, in seconds.
    #[arg(long, global = true, env = "ORGRAPH_TOKEN_TTL_SECS", default_value_t = 86_400)]
    pub token_ttl_secs: u64,

    /// Longest a session lasts from its login with the pool secret, in seconds (7 days by
    /// default): `refreshAccessToken` gives tokens that expire no later than that, and refuses
    /// once it has passed.
    #[arg(long, global = true, env = "ORGRAPH_TOKEN_MAX_LIFETIME_SECS", default_value_t = 7 * 86_400,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub token_max_lifetime_secs: u64,

    /// Longest this server goes on accepting a pool's tokens after another process (the
    /// command line, another instance) changed the pool's secret, in seconds: it reads the
    /// pools' token epochs again, in one query, when what it read is older than this. A change
    /// made through this server applies at once. Open subscriptions and event sockets check
    /// their credential this often, and are closed once it is revoked.
    #[arg(long, global = true, env = "ORGRAPH_TOKEN_REVOCATION_CHECK_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub token_revocation_check_secs: u64,

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

    /// Reverse proxies whose forwarded client address is believed (comma-separated CIDRs or
    /// addresses, e.g. `127.0.0.1/32,10.0.0.0/8`; by default none). A request whose TCP peer is
    /// in one of them is taken to come from the address in `--forwarded-header`, read from the
    /// right past every trusted hop; from any other peer that header is ignored.
    #[arg(long, global = true, env = "ORGRAPH_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<IpNet>,

    /// The header the trusted proxies write the client's address into: `x-forwarded-for` or
    /// `forwarded` (RFC 7239 `for=`). Only that one is read: a proxy passes the other through
    /// as the client sent it.
    #[arg(long, global = true, env = "ORGRAPH_FORWARDED_HEADER", value_enum, default_value_t = ForwardedHeader::XForwardedFor)]
    pub forwarded_header: ForwardedHeader,

    /// Origins whose browser pages may call the API (comma-separated exact origins such as
    /// `https://app.example.com`, or `*` for any); by default none: same origin only.
    #[arg(long, global = true, env = "ORGRAPH_CORS_ALLOWED_ORIGINS", value_parser = AllowedOrigins::parse)]
    pub cors_allowed_origins: Option<AllowedOrigins>,

    #[command(flatten)]
    pub metrics: MetricsConfig,

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
    /// address if the name's DNS answer changes in between (see docs/reference/limits.md).
    #[arg(global = true, long = "webhook-proxy", env = "ORGRAPH_WEBHOOK_PROXY")]
    pub proxy: Option<String>,
}

/// Where `/metrics` is served, and to whom.
#[derive(Debug, Clone, Args)]
pub struct MetricsConfig {
    /// Serve `/metrics` (and only it) on this separate address, e.g. `127.0.0.1:9100`; the main
    /// port then does not serve it.
    #[arg(global = true, id = "metrics_listen", long = "metrics-listen", value_name = "ADDR", env = "ORGRAPH_METRICS_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Bearer token `/metrics` requires (`Authorization: Bearer <token>`), wherever it is
    /// served. With it and no `--metrics-listen`, the main port serves `/metrics`.
    #[arg(global = true, id = "metrics_token", long = "metrics-token", value_name = "TOKEN", env = "ORGRAPH_METRICS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Serve `/metrics` on the main port without a token. Without this, a token or
    /// `--metrics-listen`, `/metrics` is not served at all.
    #[arg(global = true, id = "metrics_public", long = "metrics-public", value_name = "BOOL", env = "ORGRAPH_METRICS_PUBLIC", default_value_t = false, action = clap::ArgAction::Set)]
    pub public: bool,
}

impl MetricsConfig {
    /// Whether the main port serves `/metrics`.
    pub fn on_main_port(&self) -> bool {
        self.listen.is_none() && (self.token.is_some() || self.public)
    }
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

    /// Failed credential checks (`accessToken`, `get-management-token`, signed v3 requests) one
    /// client address may make per minute; a successful secret check costs a tenth of a failed
    /// one, a correctly signed request nothing.
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

/// The header trusted proxies forward the client's address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy's `forwardfor`, most load balancers).
    #[value(name = "x-forwarded-for")]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

/// The origins CORS lets in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `*`: any page may call the API (without credentials).
    Any,
    /// These exact origins (`scheme://host[:port]`, as browsers send them in `Origin`).
    List(Vec<String>),
}

impl AllowedOrigins {
    /// `*`, or a comma-separated list of origins, each written exactly as a browser sends it:
    /// a trailing slash, a path or a default port would never match, so they are refused here.
    pub fn parse(text: &str) -> Result<AllowedOrigins, String> {
        let items: Vec<&str> = text.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if items == ["*"] {
            return Ok(AllowedOrigins::Any);
        }
        let mut origins = Vec::with_capacity(items.len());
        for item in items {
            if item == "*" {
                return Err("`*` allows every origin: give it alone, not in a list".into());
            }
            let url = url::Url::parse(item).map_err(|e| format!("`{item}` is not an origin ({e}); write e.g. https://app.example.com"))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!("`{item}`: an origin is http:// or https://"));
            }
            let origin = url.origin().ascii_serialization();
            if origin != item {
                return Err(format!("`{item}` is not written as browsers send it: write `{origin}` (scheme, host and port only)"));
            }
            origins.push(origin);
        }
        Ok(AllowedOrigins::List(origins))
    }
}

/// A network in CIDR notation, or one address (a /32 or /128).
fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is not a network (e.g. 10.0.0.0/8, 192.0.2.7/32, fd00::/8)"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_as_browsers_write_them() {
        assert_eq!(AllowedOrigins::parse("*"), Ok(AllowedOrigins::Any));
        assert_eq!(
            AllowedOrigins::parse("https://app.example.com, http://127.0.0.1:5173"),
            Ok(AllowedOrigins::List(vec!["https://app.example.com".into(), "http://127.0.0.1:5173".into()]))
        );
        assert_eq!(AllowedOrigins::parse(""), Ok(AllowedOrigins::List(vec![])));
        for bad in ["https://app.example.com/", "https://app.example.com:443", "app.example.com", "ftp://x.example", "*,https://a.example", "https://a.example/path"] {
            assert!(AllowedOrigins::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn networks_take_cidrs_and_single_addresses() {
        assert_eq!(parse_network("10.1.2.3/8"), Ok("10.0.0.0/8".parse().unwrap()));
        assert_eq!(parse_network("192.0.2.7"), Ok("192.0.2.7/32".parse().unwrap()));
        assert_eq!(parse_network(" ::1 "), Ok("::1/128".parse().unwrap()));
        assert!(parse_network("10.0.0.0/33").is_err());
        assert!(parse_network("proxy.example").is_err());
    }
}
