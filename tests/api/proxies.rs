//! Behind a real reverse proxy: Debian's nginx, run by the test with the configuration shipped in
//! `deploy/nginx/orgraph.conf`. With `--trusted-proxies`, each client behind nginx has its own
//! credential budget (the address nginx appends to X-Forwarded-For); without it, they all share
//! nginx's; and a client that is not a trusted proxy cannot claim another address. Subscriptions
//! pass through nginx as WebSockets.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use serde_json::json;

use crate::{
    harness::{POOL_SECRET, TestServer, wait_for_value},
    subscriptions::{next_event, subscribe_at},
    users::create,
};

const NGINX: &str = "/usr/sbin/nginx";
/// Who nginx runs as when the tests run as root: nginx is started unprivileged either way.
const NOBODY: u32 = 65534;

/// nginx on a free loopback port in front of `upstream` (`host:port`), with the shipped example
/// configuration; stopped when dropped.
pub(crate) struct Nginx {
    pub url: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl Nginx {
    pub(crate) async fn start(upstream: &str) -> Nginx {
        assert!(
            Path::new(NGINX).exists(),
            "{NGINX} is missing: the reverse proxy tests need Debian's nginx (apt-get install -y nginx; .ci/run installs it)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let port = crate::harness::free_port();
        let example = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx/orgraph.conf"))
            .expect("deploy/nginx/orgraph.conf");
        let site = replace_once(&example, "server 127.0.0.1:3000;", &format!("server {upstream};"));
        let site = replace_once(&site, "listen 80;", &format!("listen 127.0.0.1:{port};"));
        std::fs::write(dir.path().join("orgraph.conf"), site).expect("site written");
        // Everything nginx writes stays in the temporary folder.
        let d = dir.path().display();
        let main = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {d}/orgraph.conf;\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), main).expect("nginx.conf written");
        let mut command = Command::new(NGINX);
        command
            .args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf"), "-e", &format!("{d}/error.log")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if running_as_root() {
            use std::os::unix::process::CommandExt as _;
            std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY)).expect("temp dir given to nobody");
            command.uid(NOBODY).gid(NOBODY);
        }
        let child = std::sync::Mutex::new(command.spawn().expect("nginx starts"));
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let ready = wait_for_value("nginx to answer /healthz", || async {
            let exited = child.lock().expect("child").try_wait();
            if let Ok(Some(status)) = exited {
                return Some(Err(status));
            }
            let res = http.get(format!("{url}/healthz")).send().await.ok()?;
            (res.status() == 200).then_some(Ok(()))
        })
        .await;
        let nginx = Nginx { url, child: child.into_inner().expect("child"), dir };
        if let Err(status) = ready {
            panic!("nginx exited ({status}):\n{}", nginx.error_log());
        }
        nginx
    }

    pub(crate) fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// `text` with `from` replaced; it must occur exactly once (the example and the test agree).
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "deploy/nginx/orgraph.conf has `{from}` once");
    text.replacen(from, to, 1)
}

fn upstream(s: &TestServer) -> String {
    s.url.trim_start_matches("http://").to_string()
}

/// A failed management-token request from `base`, claiming `forwarded_for`: its HTTP status.
async fn failed_login(http: &reqwest::Client, base: &str, pool: &str, forwarded_for: &str) -> u16 {
    let res = http
        .post(format!("{base}/api/v3/get-management-token"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "accessKeyId": pool, "accessKeySecret": "wrong-secret-0000" }))
        .send()
        .await
        .expect("request sent");
    res.status().as_u16()
}

async fn login(http: &reqwest::Client, base: &str, pool: &str, forwarded_for: &str) -> u16 {
    let res = http
        .post(format!("{base}/api/v3/get-management-token"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "accessKeyId": pool, "accessKeySecret": POOL_SECRET }))
        .send()
        .await
        .expect("request sent");
    res.status().as_u16()
}

#[tokio::test]
async fn behind_nginx_each_client_has_its_own_credential_budget_only_when_nginx_is_trusted() {
    let budget = 2;
    let trusting = TestServer::start_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
        c.limits.auth_failures_per_minute = budget;
    })
    .await;
    let nginx = Nginx::start(&upstream(&trusting)).await;
    let http = reqwest::Client::new();
    let pool = trusting.pool_id.clone();

    // Client A (nginx appends the address it saw, 127.0.0.1, which is trusted and skipped).
    for _ in 0..budget {
        assert_ne!(failed_login(&http, &nginx.url, &pool, "198.51.100.1").await, 429);
    }
    assert_eq!(failed_login(&http, &nginx.url, &pool, "198.51.100.1").await, 429, "A has spent its budget");
    // Client B, through the same nginx: untouched.
    assert_ne!(failed_login(&http, &nginx.url, &pool, "198.51.100.2").await, 429, "B has its own budget");
    assert_eq!(login(&http, &nginx.url, &pool, "198.51.100.2").await, 200);
    assert_eq!(login(&http, &nginx.url, &pool, "198.51.100.1").await, 429, "even A's right secret waits");

    // A direct client whose address (127.0.0.2) is no trusted proxy: its X-Forwarded-For is
    // ignored, so a new claimed address each time buys no new budget.
    let direct = reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().ok()).build().expect("client");
    for i in 0..budget {
        assert_ne!(failed_login(&direct, &trusting.url, &pool, &format!("203.0.113.{i}")).await, 429);
    }
    assert_eq!(failed_login(&direct, &trusting.url, &pool, "203.0.113.99").await, 429, "a made-up address is not believed");

    // Subscriptions go through nginx as WebSockets.
    let c = trusting.admin().await;
    let ws_base = nginx.url.replacen("http", "ws", 1);
    let mut ws = subscribe_at(&ws_base, &c, "/graphql/ws", json!({ "names": ["user:created"] })).await;
    trusting.wait_for_subscriptions(1).await;
    create(&c, json!({ "username": "through-nginx" })).await;
    assert_eq!(next_event(&mut ws).await["data"]["user"]["username"], "through-nginx", "nginx log:\n{}", nginx.error_log());

    // Without --trusted-proxies every client behind nginx is nginx: one budget for all.
    let plain = TestServer::start_with(|c| c.limits.auth_failures_per_minute = budget).await;
    let nginx = Nginx::start(&upstream(&plain)).await;
    for _ in 0..budget {
        assert_ne!(failed_login(&http, &nginx.url, &plain.pool_id, "198.51.100.1").await, 429);
    }
    assert_eq!(failed_login(&http, &nginx.url, &plain.pool_id, "198.51.100.2").await, 429, "B shares A's budget");
}
