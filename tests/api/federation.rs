//! orgraph as a Federation 2 subgraph: `_service { sdl }` for composition, and `_entities`
//! resolving users, departments and organizations by id, in batches, within the caller's pool.

use serde_json::json;

use crate::{harness::TestServer, orgs::create_org};

#[tokio::test]
async fn the_subgraph_sdl_links_federation_2_and_keys_the_entities() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let v = c.data("{ _service { sdl } }", json!({})).await;
    let sdl = v["_service"]["sdl"].as_str().expect("sdl");
    assert!(sdl.contains("extend schema @link(") && sdl.contains("https://specs.apollo.dev/federation/v2.5"), "{}", &sdl[..sdl.len().min(600)]);
    for ty in ["type User", "type Node", "type Org"] {
        let at = sdl.find(&format!("{ty} ")).unwrap_or_else(|| panic!("{ty} in the SDL"));
        let line = &sdl[at..at + sdl[at..].find('{').unwrap_or(0)];
        assert!(line.contains("@key(fields: \"id\")"), "{ty}: {line}");
    }
}

#[tokio::test]
async fn entities_resolve_in_order_and_only_in_the_callers_pool() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Fed", "fed").await;
    let user = c.data("mutation { createUser(userInfo: { username: \"fed\" }) { id } }", json!({})).await["createUser"]["id"].clone();
    let (other_pool, secret) = s.new_pool("other").await;
    let other = s.client_for(&other_pool, &secret).await;
    let stranger = other.data("mutation { createUser(userInfo: { username: \"stranger\" }) { id } }", json!({})).await["createUser"]["id"].clone();

    let q = "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on User { id username } ... on Node { id name } ... on Org { id rootNode { name } } } }";
    let reps = json!([
        { "__typename": "User", "id": user },
        { "__typename": "Node", "id": org["rootNode"]["id"] },
        { "__typename": "Org", "id": org["id"] },
        { "__typename": "User", "id": stranger },
        { "__typename": "User", "id": "nope" },
    ]);
    let v = c.gql_at("/graphql", q, json!({ "r": reps })).await;
    let e = &v["data"]["_entities"];
    assert_eq!(e[0], json!({ "__typename": "User", "id": user, "username": "fed" }), "{v}");
    assert_eq!(e[1], json!({ "__typename": "Node", "id": org["rootNode"]["id"], "name": "Fed" }), "{v}");
    assert_eq!(e[2]["rootNode"]["name"], "Fed", "{v}");
    assert!(e[3].is_null() && e[4].is_null(), "another pool's user and an unknown id are null: {v}");
    // And the other pool sees only its own.
    let v = other.gql_at("/graphql", q, json!({ "r": reps })).await;
    assert!(v["data"]["_entities"][0].is_null(), "{v}");
    assert_eq!(v["data"]["_entities"][3]["username"], "stranger", "{v}");
    // Without a token, nothing.
    let v = s.anonymous().gql_at("/graphql", q, json!({ "r": reps })).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{v}");
}

/// `tests/gateway` installed (with `npm ci`, once per test run) into a scratch folder.
pub(crate) fn gateway_dir() -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| crate::harness::npm_package("tests/gateway", "target/gateway-node")).clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_federation_gateway_composes_orgraph_with_another_subgraph() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    create_org(&c, "Gateway", "gateway").await;
    let mut ids = Vec::new();
    for name in ["ada", "grace"] {
        ids.push(c.data("mutation($u: String!) { createUser(userInfo: { username: $u }) { id } }", json!({ "u": name })).await["createUser"]["id"].as_str().unwrap().to_string());
    }
    let featured = format!("{},{},missing", ids[1], ids[0]);
    let dir = tokio::task::spawn_blocking(gateway_dir).await.unwrap();
    let (url, token) = (s.url.clone(), c.token.clone().unwrap());
    let out = tokio::task::spawn_blocking(move || {
        crate::sdk::run_node(&dir, "gateway.mjs", &[("ORGRAPH_HOST", &url), ("ORGRAPH_TOKEN", &token), ("FEATURED", &featured)])
    })
    .await
    .unwrap();
    assert!(out.get("compositionErrors").is_none(), "{out}");
    // Through the gateway, the same answer as from orgraph.
    assert!(out["direct"]["data"]["users"]["totalCount"] == 2, "{out}");
    assert_eq!(out["gateway"], out["direct"], "{out}");
    // From the other subgraph, orgraph's users through `_entities` (an unknown id: null).
    let featured = &out["featured"]["data"]["featured"];
    assert_eq!(featured[0], json!({ "id": ids[1], "username": "grace", "badge": format!("badge-{}", &ids[1][ids[1].len() - 4..]) }), "{out}");
    assert_eq!(featured[1]["username"], "ada", "{out}");
    assert!(featured[2]["username"].is_null(), "{out}");
    // From orgraph, the other subgraph's field on orgraph's users.
    let users = out["users"]["data"]["users"]["list"].as_array().expect("users");
    assert_eq!(users.len(), 2, "{out}");
    assert!(users.iter().all(|u| u["badge"].as_str().is_some_and(|b| b.starts_with("badge-"))), "{out}");
}
