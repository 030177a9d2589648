//! Apollo's automatic persisted queries on `/graphql`, driven by Apollo Client 4's own link,
//! and what a hash alone may not do.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{harness::TestServer, playground::browser_dir, sdk::run_node};

#[tokio::test(flavor = "multi_thread")]
async fn apollo_clients_persisted_query_link_registers_once_then_sends_hashes() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let dir = tokio::task::spawn_blocking(browser_dir).await.unwrap();
    let (url, token) = (s.url.clone(), c.token.clone().unwrap());
    let out = tokio::task::spawn_blocking(move || run_node(&dir, "apollo_persisted.mjs", &[("ORGRAPH_HOST", &url), ("ORGRAPH_TOKEN", &token)]))
        .await
        .unwrap();
    assert_eq!(out["answers"], json!([0, 0, "persisted0", "persisted1"]), "{out}");
    let requests: Vec<(String, bool)> =
        out["requests"].as_array().unwrap().iter().map(|r| (r["method"].as_str().unwrap().to_string(), r["withDocument"] == true)).collect();
    let expected = [
        // The query: its hash over GET, unknown; then the document (POST); then the hash alone.
        ("GET", false),
        ("POST", true),
        ("GET", false),
        // The mutation: never over GET.
        ("POST", false),
        ("POST", true),
        ("POST", false),
    ];
    assert_eq!(requests, expected.map(|(m, d)| (m.to_string(), d)), "{out}");
}

fn hash(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn a_hash_never_runs_a_mutation_over_get_nor_crosses_pools() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let token = c.token.clone().unwrap();
    let http = reqwest::Client::new();
    let post = |body: Value, token: String| http.post(format!("{}/graphql", s.url)).bearer_auth(token).header("accept", "application/json").json(&body).send();
    let mutation = "mutation { createUser(userInfo: { username: \"via-hash\" }) { id } }";
    let ext = |text: &str| json!({ "persistedQuery": { "version": 1, "sha256Hash": hash(text) } });

    // Unknown hash: PERSISTED_QUERY_NOT_FOUND (200 for JSON, 400 for graphql-response+json).
    let res = post(json!({ "extensions": ext(mutation) }), token.clone()).await.unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND", "{v}");
    assert_eq!(v["errors"][0]["message"], "PersistedQueryNotFound");
    // A document that is not the hash's is refused.
    let res = post(json!({ "query": "{ __typename }", "extensions": ext(mutation) }), token.clone()).await.unwrap();
    assert_eq!(res.status(), 400);
    // Registered with its document (it runs once), then its hash alone over GET is refused.
    let v: Value = post(json!({ "query": mutation, "extensions": ext(mutation) }), token.clone()).await.unwrap().json().await.unwrap();
    assert!(v["data"]["createUser"]["id"].is_string(), "{v}");
    let extensions = ext(mutation).to_string();
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("extensions", &extensions).finish();
    let res = http.get(format!("{}/graphql?{query}", s.url)).bearer_auth(&token).header("accept", "application/json").send().await.unwrap();
    assert_eq!(res.status(), 405);
    let users = c.data("{ users { totalCount } }", json!({})).await;
    assert_eq!(users["users"]["totalCount"], 1, "the mutation ran once");

    // Another pool does not see this pool's documents.
    let (other, secret) = s.new_pool("other").await;
    let other_token = s.client_for(&other, &secret).await.token.unwrap();
    let v: Value = post(json!({ "extensions": ext(mutation) }), other_token).await.unwrap().json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND", "{v}");

    // Off: the server says so, and Apollo's link falls back to full documents.
    let off = TestServer::start_with(|config| config.persisted_queries_mb = 0).await;
    let token = off.admin().await.token.unwrap();
    let v: Value = http
        .post(format!("{}/graphql", off.url))
        .bearer_auth(token)
        .json(&json!({ "extensions": ext("{ __typename }") }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_SUPPORTED", "{v}");
}

#[tokio::test]
async fn with_trusted_documents_only_the_manifests_documents_run() {
    let dir = tempfile::tempdir().unwrap();
    let users = "query TrustedUsers { users { totalCount } }";
    let apollo = dir.path().join("apollo.json");
    std::fs::write(&apollo, json!({ "format": "apollo-persisted-query-manifest", "version": 1,
        "operations": [{ "id": hash(users), "name": "TrustedUsers", "type": "query", "body": users }] }).to_string()).unwrap();
    let codegen = dir.path().join("codegen.json");
    std::fs::write(&codegen, json!({ "b6c1d2": users }).to_string()).unwrap();

    let s = TestServer::start_with(|config| config.trusted_documents = Some(apollo.clone())).await;
    let token = s.admin().await.token.unwrap();
    let http = reqwest::Client::new();
    let post = |body: Value, playground: bool| {
        let mut req = http.post(format!("{}/graphql", s.url)).bearer_auth(&token).header("accept", "application/graphql-response+json").json(&body);
        if playground {
            req = req.header("x-orgraph-client", "playground");
        }
        req.send()
    };
    // By documentId, by Apollo's hash, and as the document's own text.
    for body in [
        json!({ "documentId": format!("sha256:{}", hash(users)) }),
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash(users) } } }),
        json!({ "query": users }),
    ] {
        let res = post(body.clone(), false).await.unwrap();
        assert_eq!(res.status(), 200, "{body}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["data"]["users"]["totalCount"], 0, "{body}: {v}");
    }
    // Any other document is refused, an unknown id is not found, and nothing registers.
    let other = "mutation { createUser(userInfo: { username: \"untrusted\" }) { id } }";
    for (body, code) in [
        (json!({ "query": other }), "PERSISTED_QUERY_NOT_IN_LIST"),
        (json!({ "query": other, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash(other) } } }), "PERSISTED_QUERY_NOT_FOUND"),
        (json!({ "documentId": "sha256:0000" }), "PERSISTED_QUERY_NOT_FOUND"),
        (json!({ "query": other }), "PERSISTED_QUERY_NOT_IN_LIST"),
    ] {
        let res = post(body.clone(), false).await.unwrap();
        assert_eq!(res.status(), 400, "{body}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["errors"][0]["extensions"]["code"], code, "{body}: {v}");
    }
    // The playground's requests too, unless the admin allows them.
    assert_eq!(post(json!({ "query": "{ __typename }" }), true).await.unwrap().status(), 400);
    // Authing's endpoint is not restricted (its SDKs send their own documents).
    let v = s.admin().await.data("{ users { totalCount } }", json!({})).await;
    assert_eq!(v["users"]["totalCount"], 0);

    // graphql-codegen's format, with the playground allowed.
    let s = TestServer::start_with(|config| {
        config.trusted_documents = Some(codegen.clone());
        config.trusted_documents_playground = true;
    })
    .await;
    let token = s.admin().await.token.unwrap();
    let post = |body: Value, playground: bool, token: Option<&str>| {
        let mut req = http.post(format!("{}/graphql", s.url)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if playground {
            req = req.header("x-orgraph-client", "playground");
        }
        req.send()
    };
    let v: Value = post(json!({ "documentId": "b6c1d2" }), false, Some(&token)).await.unwrap().json().await.unwrap();
    assert_eq!(v["data"]["users"]["totalCount"], 0, "{v}");
    let v: Value = post(json!({ "query": "{ orgs { totalCount } }" }), true, Some(&token)).await.unwrap().json().await.unwrap();
    assert_eq!(v["data"]["orgs"]["totalCount"], 0, "the playground with a token: {v}");
    let v: Value = post(json!({ "query": "{ __typename }" }), true, None).await.unwrap().json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_IN_LIST", "the header alone is not enough: {v}");

    // A manifest that cannot be read stops the server from starting.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[1]").unwrap();
    let mut state = s.state.clone();
    let mut config = (*state.config).clone();
    config.trusted_documents = Some(bad);
    state.config = std::sync::Arc::new(config);
    let schema = orgraph::graphql::build_schema(state.clone());
    let refused = orgraph::http::router(state, schema).expect_err("a bad manifest is refused");
    assert!(format!("{refused:#}").contains("bad.json"), "{refused:#}");
}
