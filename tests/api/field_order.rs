//! Every answer lists fields in selection order, aliases included, on both endpoints and on the
//! fast paths: plain user lists, the cached org listing placed into the answer, and answers
//! rewritten because they carry errors.

use serde_json::{Value, json, value::RawValue};

use crate::{harness::TestServer, orgs::create_org};

/// A JSON object's members in the order they were sent (`serde_json::Value` sorts them).
struct Ordered(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Ordered(members))
            }
        }
        d.deserialize_map(Members)
    }
}

/// The keys of the object at `pointer` (JSON pointer syntax) in the raw answer `text`, in the
/// order they were sent.
fn keys(text: &str, pointer: &str) -> Vec<String> {
    let mut at: Box<RawValue> = serde_json::from_str(text).expect("JSON answer");
    for step in pointer.split('/').skip(1) {
        at = match step.parse::<usize>() {
            Ok(i) => serde_json::from_str::<Vec<Box<RawValue>>>(at.get()).ok().and_then(|mut items| (i < items.len()).then(|| items.swap_remove(i))),
            Err(_) => serde_json::from_str::<Ordered>(at.get()).ok().and_then(|o| o.0.into_iter().find(|(k, _)| k == step).map(|(_, v)| v)),
        }
        .unwrap_or_else(|| panic!("nothing at {pointer} in {text}"));
    }
    serde_json::from_str::<Ordered>(at.get()).unwrap_or_else(|_| panic!("no object at {pointer} in {text}")).0.into_iter().map(|(k, _)| k).collect()
}

async fn raw(s: &TestServer, token: &str, path: &str, query: &str, variables: Value) -> String {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", s.url))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("sent");
    res.text().await.expect("body")
}

#[tokio::test]
async fn fields_come_back_in_selection_order_on_every_path() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let token = c.token.clone().expect("token");
    let org = create_org(&c, "Order", "order").await;
    let org_id = org["id"].as_str().expect("org id").to_string();
    let root = org["rootNode"]["id"].as_str().expect("root").to_string();
    c.data("mutation($o: String!, $p: String) { addNodeV2(orgId: $o, parentNodeId: $p, name: \"Child\", code: \"child\") { id } }", json!({ "o": org_id, "p": root })).await;
    let user = c.data("mutation { createUser(userInfo: { username: \"ordered\", email: \"o@example.com\" }) { id } }", json!({})).await;
    c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": root, "u": [user["createUser"]["id"]] })).await;

    for path in ["/graphql", "/graphql/v2"] {
        // A node, its children and its members, in an order unlike the type's.
        let q = "query($o: String!) { rootNode(orgId: $o) { id name childNodes { name id } users { list { username id } totalCount } code } }";
        let text = raw(&s, &token, path, q, json!({ "o": org_id })).await;
        assert_eq!(keys(&text, "/data/rootNode"), ["id", "name", "childNodes", "users", "code"], "{path}: {text}");
        assert_eq!(keys(&text, "/data/rootNode/childNodes/0"), ["name", "id"], "{path}");
        assert_eq!(keys(&text, "/data/rootNode/users"), ["list", "totalCount"], "{path}");
        assert_eq!(keys(&text, "/data/rootNode/users/list/0"), ["username", "id"], "{path}");

        // The plain user list (rendered straight into values), with aliases.
        let q = "{ users { totalCount list { mail: email id login: username } } }";
        let text = raw(&s, &token, path, q, json!({})).await;
        assert_eq!(keys(&text, "/data/users"), ["totalCount", "list"], "{path}");
        assert_eq!(keys(&text, "/data/users/list/0"), ["mail", "id", "login"], "{path}: {text}");

        // The org listing, cached and placed as bytes on the second request; aliases and root
        // fields in their order too.
        let q = "query($o: String!) { second: __typename org(id: $o) { nodes { path code x: id name } id } first: __typename }";
        for _ in 0..2 {
            let text = raw(&s, &token, path, q, json!({ "o": org_id })).await;
            assert_eq!(keys(&text, "/data"), ["second", "org", "first"], "{path}");
            assert_eq!(keys(&text, "/data/org"), ["nodes", "id"], "{path}");
            assert_eq!(keys(&text, "/data/org/nodes/0"), ["path", "code", "x", "name"], "{path}: {text}");
        }

        // An answer with an error is rewritten on /graphql/v2 (Authing's error objects): the
        // data keeps its order.
        let q = "{ zz: __typename missing: nodeById(id: \"nope\") { id } aa: __typename }";
        let text = raw(&s, &token, path, q, json!({})).await;
        assert_eq!(keys(&text, "/data"), ["zz", "missing", "aa"], "{path}: {text}");
        assert_eq!(keys(&text, "")[0], "data", "{path}: {text}");
    }
}
