//! A real orgraph server on a loopback port, on a fresh database: a SQLite file in a temporary
//! folder, or a new PostgreSQL database when `DATABASE_URL` points at a PostgreSQL server.

use std::{
    io::Write as _,
    path::PathBuf,
    process::Command,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use orgraph::{app::Background, cli::Cli, config::Config, state::AppState};
use clap::Parser;
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const POOL_SECRET: &str = "test-secret-0123456789abcdef";

/// A database that exists for one test and is dropped after it.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        // Every test that starts something starts here; its HTTP clients need TLS set up.
        orgraph::delivery::sender::install_tls_provider();
        match postgres_admin_url() {
            Some(admin) => {
                static N: AtomicU64 = AtomicU64::new(0);
                let name = format!(
                    "orgraph_t_{}_{}_{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed),
                    orgraph::ids::random_hex(3)
                );
                let conn = Database::connect(&admin).await.expect("connect to DATABASE_URL");
                conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                conn.close().await.ok();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).expect("DATABASE_URL has a database");
                TestDb { url: format!("{base}/{name}"), _dir: None, postgres: Some((admin, name)) }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("orgraph.db").display());
                TestDb { url, _dir: Some(dir), postgres: None }
            }
        }
    }
}

impl TestDb {
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

/// The PostgreSQL server the tests run on, when `DATABASE_URL` names one (they run on SQLite
/// otherwise).
fn postgres_admin_url() -> Option<String> {
    std::env::var("DATABASE_URL").ok().filter(|url| url.starts_with("postgres"))
}

/// For a test that only means something on PostgreSQL: on SQLite, print that it is skipped and
/// why, and answer true (the caller returns). The line goes to the terminal itself, not to the
/// test's captured output, so `cargo test` shows it although the test reports `ok`.
pub fn skipped_on_sqlite(why: &str) -> bool {
    if postgres_admin_url().is_some() {
        return false;
    }
    let thread = std::thread::current();
    let test = thread.name().filter(|n| *n != "main").unwrap_or("a PostgreSQL-only test");
    let _ = writeln!(std::io::stderr(), "skipped {test}: needs DATABASE_URL=postgres://… ({why})");
    true
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else { return };
        // Drop runs outside any runtime (or inside one that must not block): use a thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                if let Ok(conn) = Database::connect(&admin).await {
                    let _ = conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// The configuration a test server starts with: the defaults of the CLI, a fresh database, a
/// known first pool.
pub fn test_config(db_url: &str) -> Config {
    let mut config = Cli::parse_from(["orgraph"]).config;
    config.database_url = db_url.to_string();
    config.listen = "127.0.0.1:0".parse().expect("addr");
    config.jwt_secret = None;
    config.bootstrap_pool_id = Some(format!("pool{}", orgraph::ids::random_hex(4)));
    config.bootstrap_pool_secret = Some(POOL_SECRET.to_string());
    config
}

pub struct TestServer {
    pub url: String,
    /// `--metrics-listen`'s address, when the test gave one (`127.0.0.1:0` picks a free port).
    pub metrics_url: Option<String>,
    pub pool_id: String,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    /// The delivery worker and the other background tasks, until `stop_background` or drop.
    background: std::sync::Mutex<Option<Background>>,
    pub db: std::sync::Arc<TestDb>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> TestServer {
        let db = std::sync::Arc::new(TestDb::new().await);
        Self::start_on(db, None, tune).await
    }

    /// Another server on the same database (a second instance), with the same first pool.
    pub async fn second(&self) -> TestServer {
        self.second_with(|_| {}).await
    }

    /// A second instance with its configuration tuned like `start_with`.
    pub async fn second_with(&self, tune: impl FnOnce(&mut Config)) -> TestServer {
        Self::start_on(self.db.clone(), Some(self.pool_id.clone()), tune).await
    }

    async fn start_on(db: std::sync::Arc<TestDb>, pool: Option<String>, tune: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = test_config(&db.url);
        if pool.is_some() {
            config.bootstrap_pool_id = pool;
        }
        tune(&mut config);
        let pool_id = config.bootstrap_pool_id.clone().expect("pool id");
        let (state, _) = AppState::open(config).await.expect("server starts");
        let listeners = orgraph::app::Listeners::bind(&state.config).await.expect("bind");
        let url = format!("http://{}", listeners.main.local_addr().expect("addr"));
        let metrics_url = listeners.metrics.as_ref().map(|l| format!("http://{}", l.local_addr().expect("addr")));
        let (stop, stopped) = oneshot::channel::<()>();
        let background = std::sync::Mutex::new(Some(Background::start(&state).await.expect("background tasks start")));
        let serving = orgraph::app::serve(state.clone(), listeners, async {
            let _ = stopped.await;
        });
        tokio::spawn(serving.map_unit());
        TestServer { url, metrics_url, pool_id, state, stop: Some(stop), background, db }
    }

    /// Stop the background tasks (the delivery worker, the PostgreSQL relay, the SQLite
    /// checkpointer) and wait until they have ended: the worker finishes and records the sends
    /// it has in flight first. Afterwards nothing is sent, and only requests touch the
    /// database. Requests are still served. Once stopped, later calls return at once.
    pub async fn stop_background(&self) {
        let background = self.background.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(background) = background {
            before_deadline("the background tasks to stop", background.stop()).await;
        }
    }

    /// Wait until no webhook delivery is pending or being sent: each has its final state.
    pub async fn wait_for_deliveries_to_finish(&self) {
        use entity::delivery::{Column, DeliveryStatus, Entity};
        wait_until("every webhook delivery to succeed or fail for good", || async {
            let unfinished = Entity::find()
                .filter(Column::Status.is_in([DeliveryStatus::Pending, DeliveryStatus::Delivering]))
                .count(&self.state.db)
                .await
                .expect("deliveries counted");
            unfinished == 0
        })
        .await;
    }

    /// Wait until `n` live subscriptions are open on this server (they count from the moment
    /// they listen to the event bus).
    pub async fn wait_for_subscriptions(&self, n: i64) {
        wait_until("the subscriptions to start", || async { self.state.metrics.subscriptions.get() >= n }).await;
    }

    /// The first pool, as the services take it (for tests that call them directly).
    pub async fn pool(&self) -> orgraph::domain::PoolId {
        self.state.pools.authenticate(&self.pool_id, POOL_SECRET, None).await.expect("the first pool's credentials")
    }

    /// A client holding a fresh management token of the first pool.
    pub async fn admin(&self) -> Client {
        self.client_for(&self.pool_id, POOL_SECRET).await
    }

    /// A management token of the first pool (what the Python SDK gets from get-management-token).
    pub async fn v3_token(&self) -> String {
        self.admin().await.token.expect("a token")
    }

    /// A client holding a token of `pool_id`.
    pub async fn client_for(&self, pool_id: &str, secret: &str) -> Client {
        let anon = self.anonymous();
        let data = anon
            .data(
                "query($id: String!, $s: String!) { accessToken(userPoolId: $id, secret: $s) { accessToken } }",
                json!({ "id": pool_id, "s": secret }),
            )
            .await;
        let token = data["accessToken"]["accessToken"].as_str().expect("token").to_string();
        Client { token: Some(token), pool_header: Some(pool_id.to_string()), ..anon }
    }

    pub fn anonymous(&self) -> Client {
        Client { http: reqwest::Client::new(), base: self.url.clone(), token: None, pool_header: None }
    }

    /// A second pool, with its id and secret.
    pub async fn new_pool(&self, name: &str) -> (String, String) {
        let p = self.state.pools.create(name, None, None).await.expect("pool created");
        (p.id, p.secret)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Stopped as the server would stop them, in the background: a drop cannot wait.
        let background = self.background.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let (Some(background), Ok(runtime)) = (background, tokio::runtime::Handle::try_current()) {
            runtime.spawn(background.stop());
        }
    }
}

trait MapUnit {
    fn map_unit(self) -> impl std::future::Future<Output = ()> + Send + 'static;
}

impl<F> MapUnit for F
where
    F: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    async fn map_unit(self) {
        if let Err(e) = self.await {
            panic!("server failed: {e:#}");
        }
    }
}

/// The status a v2 REST answer stands for: v2 errors answer HTTP 200 with `statusCode` in the body
/// (Authing's SDKs read only 2xx bodies); anything else is the HTTP status itself.
pub async fn v2_status(res: reqwest::Response) -> u16 {
    let http = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    match (http, body["statusCode"].as_u64()) {
        (200, Some(s)) => u16::try_from(s).unwrap_or(0),
        _ => http,
    }
}

/// How long a test waits for something that should happen: generous, as the tests share a
/// few cores with builds. A wait that runs out fails the test, naming what it waited for.
pub const WAIT_DEADLINE: Duration = Duration::from_secs(30);

/// Wait until `probe` finds a value and return it: asked at once, then again after 5 ms,
/// 10 ms, ... up to every 100 ms. Fail after `WAIT_DEADLINE`, naming `what`.
pub async fn wait_for_value<T, F, Fut>(what: &str, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT_DEADLINE;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {} s waiting for {what}", WAIT_DEADLINE.as_secs());
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Wait until `done` holds (see `wait_for_value`).
pub async fn wait_until<F, Fut>(what: &str, done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    wait_for_value(what, || async { done().await.then_some(()) }).await
}

/// Await `signal`; fail if it has not come after `WAIT_DEADLINE`, naming `what`.
pub async fn before_deadline<T>(what: &str, signal: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT_DEADLINE, signal)
        .await
        .unwrap_or_else(|_| panic!("timed out after {} s waiting for {what}", WAIT_DEADLINE.as_secs()))
}

/// Wait until the orgraph at `base` (a binary a test started) answers `/readyz` with 200.
/// A loopback port free right now (for a server or a page started by the test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

pub async fn wait_ready(base: &str) {
    let http = reqwest::Client::new();
    wait_until(&format!("{base} to be ready"), || async {
        http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await
}

/// An HTTP client of the server, optionally with a bearer token.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
    pub pool_header: Option<String>,
}

impl Client {
    pub fn with_token(&self, token: &str) -> Client {
        Client { token: Some(token.to_string()), ..self.clone() }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(p) = &self.pool_header {
            req = req.header("x-authing-userpool-id", p);
        }
        req
    }

    /// The whole GraphQL response of `POST /graphql/v2`.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_at("/graphql/v2", query, variables).await
    }

    pub async fn gql_at(&self, path: &str, query: &str, variables: Value) -> Value {
        let res = self
            .request(reqwest::Method::POST, path)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        assert_eq!(res.status(), 200, "GraphQL answers 200");
        res.json().await.expect("JSON body")
    }

    /// `data` of a response that must have no errors.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let res = self.gql(query, variables).await;
        assert!(res.get("errors").is_none(), "unexpected errors: {res}");
        res["data"].clone()
    }

    /// The error of a response that must fail: (extensions.code, message). On `/graphql/v2` the
    /// message is Authing's object `{code, message, statusCode, data}` with a numeric code.
    pub async fn error(&self, query: &str, variables: Value) -> (String, String) {
        let res = self.gql(query, variables).await;
        let err = &res["errors"][0];
        assert!(err.is_object(), "expected an error, got {res}");
        let message = &err["message"];
        assert!(message["code"].is_i64(), "Authing's numeric code: {res}");
        assert!(message["message"].as_str().is_some_and(|m| !m.is_empty()), "a readable message: {res}");
        (err["extensions"]["code"].as_str().unwrap_or("<none>").to_string(), message["message"].as_str().unwrap_or("").to_string())
    }

    /// The same on the spec endpoint `/graphql`, where `message` is a string.
    pub async fn spec_error(&self, query: &str, variables: Value) -> (String, String) {
        let res = self.gql_at("/graphql", query, variables).await;
        let err = &res["errors"][0];
        assert!(err["message"].is_string(), "message is a string: {res}");
        (err["extensions"]["code"].as_str().unwrap_or("<none>").to_string(), err["message"].as_str().unwrap_or("").to_string())
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path).send().await.expect("request sent")
    }

    pub async fn post_json(&self, path: &str, body: Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path).json(&body).send().await.expect("request sent")
    }

    pub async fn put_json(&self, path: &str, body: Value) -> reqwest::Response {
        self.request(reqwest::Method::PUT, path).json(&body).send().await.expect("request sent")
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::DELETE, path).send().await.expect("request sent")
    }
}

/// The Node.js package in `folder` (package.json, package-lock.json and scripts) copied into
/// `scratch` (under `target/`) and installed there with `npm ci`, again only when its lockfile
/// changed. Without npm the calling test fails and says so.
pub fn npm_package(folder: &str, scratch: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let src = root.join(folder);
    let dir = root.join(scratch);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let lock = std::fs::read(src.join("package-lock.json")).unwrap_or_else(|e| panic!("{folder}/package-lock.json: {e}"));
    let installed = std::fs::read(dir.join("package-lock.json")).ok();
    for entry in std::fs::read_dir(&src).unwrap_or_else(|e| panic!("{folder}: {e}")) {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy the package's files");
        }
    }
    if installed.as_deref() != Some(&lock[..]) || !dir.join("node_modules/.package-lock.json").exists() {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .unwrap_or_else(|e| panic!("npm is required by the tests that use {folder} and could not be run: {e}"));
        assert!(out.status.success(), "npm ci in {scratch} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    dir
}
