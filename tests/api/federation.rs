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
