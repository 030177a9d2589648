//! The GraphQL playground on `GET /graphql`: its page and files (compressed, cached, under a
//! same-origin Content-Security-Policy), `--graphiql false`, and the page itself end to end in
//! Debian's Chromium (tests/browser/playground.cjs): connect, the org tree, a live event, and
//! not one request to another origin.

use std::{io::Read as _, path::PathBuf, process::Command, time::Instant};

use serde_json::{Value, json};

use crate::{
    harness::{POOL_SECRET, TestServer},
    orgs::{add_node, create_org, id},
    subscriptions::{recv, subscribe},
    users::create,
};

const CHROMIUM: &str = "/usr/bin/chromium";

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut plain).expect("gzip body");
    plain
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn the_page_and_its_files_are_served_compressed_cached_and_same_origin_only() {
    let s = TestServer::start().await;
    let http = reqwest::Client::new();
    let get = |path: &str, gzip: bool| {
        let req = http.get(format!("{}{path}", s.url));
        if gzip { req.header("accept-encoding", "gzip, deflate, br") } else { req }
    };

    let res = get("/graphql", true).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&res, "content-encoding"), "gzip");
    assert_eq!(header(&res, "cache-control"), "no-cache");
    let host = s.url.trim_start_matches("http://").to_string();
    let csp = header(&res, "content-security-policy").to_string();
    for directive in [
        "default-src 'self'",
        "script-src 'self';",
        &format!("connect-src 'self' ws://{host} wss://{host};"),
        "worker-src 'self';",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "CSP has {directive}: {csp}");
    }
    assert!(!csp.contains("script-src 'self' 'unsafe"), "no inline or eval scripts: {csp}");
    let etag = header(&res, "etag").to_string();
    let html = String::from_utf8(gunzip(&res.bytes().await.unwrap())).unwrap();

    // Every file the page names: relative URLs, all served, gzip or plain as asked.
    let files: Vec<&str> = html.split("=\"./").skip(1).filter_map(|s| s.split('"').next()).collect();
    assert!(!files.is_empty() && files.iter().all(|f| f.starts_with("graphql/assets/")), "{files:?}");
    for file in &files {
        let zipped = get(&format!("/{file}"), true).send().await.unwrap();
        assert_eq!(zipped.status(), 200, "{file}");
        assert_eq!(header(&zipped, "content-encoding"), "gzip", "{file}");
        assert_eq!(header(&zipped, "cache-control"), "public, max-age=31536000, immutable", "{file}");
        assert_eq!(header(&zipped, "x-content-type-options"), "nosniff");
        let kind = header(&zipped, "content-type").to_string();
        assert!(kind.starts_with(if file.ends_with(".js") { "text/javascript" } else { "text/css" }), "{file}: {kind}");
        let zipped = gunzip(&zipped.bytes().await.unwrap());
        let plain = get(&format!("/{file}"), false).send().await.unwrap();
        assert_eq!(header(&plain, "content-encoding"), "", "no gzip for a client that did not ask");
        assert_eq!(plain.bytes().await.unwrap().to_vec(), zipped, "{file}: the same bytes either way");
    }

    // A current copy is not sent again; an unknown file is not there.
    let res = get("/graphql", true).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(get("/graphql/assets/nope-123.js", true).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn graphiql_false_turns_the_playground_off_but_not_graphql_on_the_same_path() {
    let s = TestServer::start_with(|c| c.graphiql = false).await;
    let on = TestServer::start().await;
    let html = on.anonymous().get("/graphql").await.text().await.unwrap();
    let asset = html.split("=\"./").nth(1).and_then(|s| s.split('"').next()).expect("an asset").to_string();

    let anon = s.anonymous();
    assert_eq!(anon.get("/graphql").await.status(), 404);
    assert_eq!(anon.get(&format!("/{asset}")).await.status(), 404);
    // POST /graphql and subscriptions as an upgrade of GET /graphql still work.
    let c = s.admin().await;
    assert_eq!(c.gql_at("/graphql", "{ orgs { totalCount } }", json!({})).await["data"]["orgs"]["totalCount"], 0);
    let mut ws = subscribe(&s, &c, "/graphql", json!({})).await;
    // A subscription without `after` starts at the next event: wait until it listens.
    s.wait_for_subscriptions(1).await;
    create(&c, json!({ "username": "still-live" })).await;
    let ev = recv(&mut ws).await.expect("an event");
    assert_eq!(ev["payload"]["data"]["events"]["data"]["user"]["username"], "still-live");
}

/// The page in headless Chromium, offline by construction: the script fails on any request
/// to another origin. Needs Debian's Chromium (`apt-get install chromium`; `.ci/run` does it).
#[tokio::test(flavor = "multi_thread")]
async fn the_playground_works_in_chromium_with_no_other_origin() {
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the playground's browser test needs Debian's Chromium (apt-get install -y chromium; .ci/run installs it)"
    );
    // The script reads /metrics to know when the server listens for the subscription's events.
    let s = TestServer::start_with(|c| c.metrics.public = true).await;
    let c = s.admin().await;
    // A small tree for the OrgTree tab: Playground Co > Engineering > Backend, with members.
    let org = create_org(&c, "Playground Co", "pgco").await;
    let root = org["rootNode"]["id"].as_str().unwrap().to_string();
    let eng = id(&add_node(&c, &id(&org), &root, "Engineering", Some("eng")).await);
    let backend = id(&add_node(&c, &id(&org), &eng, "Backend", None).await);
    let ada = id(&create(&c, json!({ "username": "ada", "email": "ada@example.com" })).await);
    let linus = id(&create(&c, json!({ "username": "linus" })).await);
    for (node, user) in [(&eng, &ada), (&backend, &linus)] {
        c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": node, "u": [user] }))
            .await;
    }

    let dir = tokio::task::spawn_blocking(browser_dir).await.unwrap();
    let shot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/playground.png");
    let (url, pool, shot_arg) = (s.url.clone(), s.pool_id.clone(), shot.display().to_string());
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("playground.cjs")
            .current_dir(&dir)
            .envs([
                ("ORGRAPH_HOST", url.as_str()),
                ("ORGRAPH_POOL_ID", pool.as_str()),
                ("ORGRAPH_POOL_SECRET", POOL_SECRET),
                ("CHROMIUM", CHROMIUM),
                ("SHOT", shot_arg.as_str()),
            ])
            .output()
            .unwrap_or_else(|e| panic!("Node.js is required for the playground's browser test and could not be run: {e}"))
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "playground.cjs failed (screenshot: {}):\n{log}\n{stdout}", shot.display());
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("a JSON summary");
    eprintln!("{log}browser part: {:.1} s", started.elapsed().as_secs_f64());

    // What the page showed for the OrgTree tab is the tree we made, nested, with members.
    let orgs = &summary["orgs"];
    assert_eq!(orgs["totalCount"], 1);
    let top = &orgs["list"][0]["rootNode"];
    assert_eq!(top["name"], "Playground Co");
    let eng_node = &top["childNodes"][0];
    assert_eq!((&eng_node["name"], &eng_node["code"]), (&json!("Engineering"), &json!("eng")));
    assert_eq!(eng_node["users"]["list"], json!([{ "id": ada, "username": "ada", "email": "ada@example.com" }]));
    assert_eq!(eng_node["childNodes"][0]["name"], "Backend");
    assert_eq!(eng_node["childNodes"][0]["users"]["totalCount"], 1);

    // The subscription carried the (renewed) token and saw the user the script created.
    assert_eq!(summary["renewed"], true);
    let init = summary["initPayload"].as_object().expect("connection_init payload");
    assert_eq!(init.keys().collect::<Vec<_>>(), ["Authorization"], "{init:?}");
    assert!(init["Authorization"].as_str().unwrap().starts_with("Bearer ey"), "{init:?}");
    assert_eq!(summary["wsUrl"], format!("{}/graphql/ws", s.url.replacen("http", "ws", 1)));
    let user = &summary["user"];
    let event = &summary["event"];
    assert!(["register", "user:created"].contains(&event["eventName"].as_str().unwrap()), "{event}");
    assert_eq!(event["data"]["user"]["id"], user["id"]);
    let seen = c.data("query($id: String) { user(id: $id) { username } }", json!({ "id": user["id"] })).await;
    assert_eq!(seen["user"]["username"], user["username"]);

    // Offline: every request (page, scripts, styles, workers, fonts, WebSockets) went to orgraph.
    let requests = summary["requests"].as_array().unwrap();
    assert!(requests.len() >= 10, "the page, its files and workers were requested: {requests:?}");
    let ws_url = s.url.replacen("http", "ws", 1);
    for r in requests {
        let r = r.as_str().unwrap();
        assert!(r.starts_with(&format!("{}/", s.url)) || r.starts_with(&format!("{ws_url}/")), "request to another origin: {r}");
    }
    assert!(shot.exists(), "screenshot at {}", shot.display());
}

/// `tests/browser` (npm playwright-core) installed into `target/browser-node`, once per run.
pub(crate) fn browser_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| crate::harness::npm_package("tests/browser", "target/browser-node")).clone()
}
