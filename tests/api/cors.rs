//! CORS (`--cors-allowed-origins`): preflights and answers on every API surface for an allowed
//! origin, nothing for another, `*` without credentials, none at all by default; and Apollo
//! Client on a page of another origin in Debian's Chromium (tests/browser/cors.cjs): it works
//! when that origin is allowed, and the browser refuses when it is not.

use std::{path::Path, process::Command};

use orgraph::config::AllowedOrigins;
use serde_json::{Value, json};

use crate::harness::TestServer;

const APP: &str = "https://app.example.com";
const CHROMIUM: &str = "/usr/bin/chromium";

fn allowing(origins: &str) -> impl FnOnce(&mut orgraph::config::Config) {
    let origins = AllowedOrigins::parse(origins).expect("origins");
    move |c| c.cors_allowed_origins = Some(origins)
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers().get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",")
}

/// A browser's preflight of a POST to `path` from `origin` with the headers Apollo Client and
/// Authing's SDKs send.
async fn preflight(s: &TestServer, path: &str, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}{path}", s.url))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type,x-authing-userpool-id,x-authing-sdk-version,apollo-require-preflight")
        .send()
        .await
        .expect("preflight sent")
}

#[tokio::test]
async fn an_allowed_origin_is_answered_on_every_api_surface_and_another_is_not() {
    let s = TestServer::start_with(allowing(&format!("{APP},http://localhost:5173"))).await;
    for path in ["/graphql", "/graphql/v2", "/api/v2/orgs", "/api/v3/create-department", "/scim/v2/Users"] {
        let res = preflight(&s, path, APP).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
        assert_eq!(header(&res, "access-control-allow-origin"), APP, "{path}");
        assert_eq!(header(&res, "access-control-allow-credentials"), "true", "{path}");
        let methods = header(&res, "access-control-allow-methods");
        assert!(methods.contains("POST") && methods.contains("PATCH"), "{path}: {methods}");
        let allowed = header(&res, "access-control-allow-headers");
        for h in ["authorization", "content-type", "x-authing-userpool-id", "x-authing-sdk-version", "apollo-require-preflight"] {
            assert!(allowed.contains(h), "{path}: {h} in {allowed}");
        }
        assert_eq!(header(&res, "access-control-max-age"), "600");
        assert!(header(&res, "vary").contains("origin"), "{path}: answers depend on Origin");

        // Another origin gets no permission (the browser then refuses the call).
        let res = preflight(&s, path, "https://evil.example.com").await;
        assert_eq!(header(&res, "access-control-allow-origin"), "", "{path}");
    }

    // The call itself, and a refusal too, carry the headers a page needs to read them.
    let c = s.admin().await;
    let res = c.http.post(format!("{}/graphql", s.url)).header("origin", APP).bearer_auth(c.token.as_ref().expect("token"))
        .json(&json!({ "query": "{ users { totalCount } }" })).send().await.expect("sent");
    assert_eq!(header(&res, "access-control-allow-origin"), APP);
    assert!(header(&res, "access-control-expose-headers").contains("retry-after"), "{:?}", res.headers());
    assert_eq!(res.json::<Value>().await.expect("JSON")["data"]["users"]["totalCount"], 0);
    let res = c.http.get(format!("{}/api/v3/list-department-members", s.url)).header("origin", APP).send().await.expect("sent");
    assert_eq!(res.status(), 401);
    assert_eq!(header(&res, "access-control-allow-origin"), APP);
    // The second origin of the list.
    let res = preflight(&s, "/graphql", "http://localhost:5173").await;
    assert_eq!(header(&res, "access-control-allow-origin"), "http://localhost:5173");
}

#[tokio::test]
async fn any_origin_never_allows_credentials() {
    let s = TestServer::start_with(allowing("*")).await;
    let res = preflight(&s, "/graphql", "https://anywhere.example").await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
    assert_eq!(header(&res, "access-control-allow-credentials"), "", "no credentials with *");
    assert!(header(&res, "access-control-allow-headers").contains("authorization"));
}

#[tokio::test]
async fn without_the_flag_other_origins_get_no_cors_answer() {
    let s = TestServer::start().await;
    let res = preflight(&s, "/graphql", APP).await;
    assert_eq!(res.status(), 405, "no preflight answer: same origin only");
    assert_eq!(header(&res, "access-control-allow-origin"), "");
    let res = s.anonymous().http.get(format!("{}/healthz", s.url)).header("origin", APP).send().await.expect("sent");
    assert_eq!(header(&res, "access-control-allow-origin"), "");
}

/// Needs Debian's Chromium (`.ci/run` installs it) and Node.js.
#[tokio::test(flavor = "multi_thread")]
async fn apollo_client_on_another_origin_works_only_when_that_origin_is_allowed() {
    assert!(Path::new(CHROMIUM).exists(), "{CHROMIUM} is missing: the CORS browser test needs Debian's Chromium (apt-get install -y chromium)");
    // The page's origin: another port of the loopback address.
    let page_port = crate::harness::free_port();
    let page_origin = format!("http://127.0.0.1:{page_port}");
    let allowed = TestServer::start_with(allowing(&page_origin)).await;
    let denied = TestServer::start_with(allowing(APP)).await;
    let (allowed_admin, denied_admin) = (allowed.admin().await, denied.admin().await);

    let dir = tokio::task::spawn_blocking(crate::playground::browser_dir).await.expect("npm package");
    let envs = [
        ("PAGE_PORT", page_port.to_string()),
        ("ALLOWED_API", allowed.url.clone()),
        ("ALLOWED_TOKEN", allowed_admin.token.clone().expect("token")),
        ("ALLOWED_POOL", allowed.pool_id.clone()),
        ("DENIED_API", denied.url.clone()),
        ("DENIED_TOKEN", denied_admin.token.clone().expect("token")),
        ("DENIED_POOL", denied.pool_id.clone()),
        ("CHROMIUM", CHROMIUM.to_string()),
    ];
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("cors.cjs")
            .current_dir(&dir)
            .envs(envs)
            .output()
            .unwrap_or_else(|e| panic!("Node.js is required for the CORS browser test and could not be run: {e}"))
    })
    .await
    .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "cors.cjs failed:\n{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("a JSON summary");

    // Allowed: the query and the mutation went through, with the token's pool.
    let ok = &summary["allowed"];
    assert_eq!(ok["ok"], true, "{summary}");
    assert_eq!(ok["totalCount"], 0, "{summary}");
    assert_eq!(ok["created"]["username"], "apollo-allowed", "{summary}");
    let seen = allowed_admin.data("{ users { totalCount list { username } } }", json!({})).await;
    assert_eq!(seen["users"]["list"][0]["username"], "apollo-allowed");

    // Not allowed: the browser refused (a network error naming CORS in the console), and the
    // mutation never reached the server.
    let refused = &summary["denied"];
    assert_eq!(refused["ok"], false, "{summary}");
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("Failed to fetch")), "{summary}");
    let console = summary["console"].as_array().expect("console lines");
    assert!(
        console.iter().any(|l| l.as_str().is_some_and(|l| l.contains("CORS policy") && l.contains(&denied.url))),
        "Chromium names the CORS refusal: {summary}"
    );
    let seen = denied_admin.data("{ users { totalCount } }", json!({})).await;
    assert_eq!(seen["users"]["totalCount"], 0, "nothing was created through the refused origin");
}
