//! Whole answers pinned as snapshots (insta, in `tests/api/snapshots/`): the documents clients
//! parse field by field. Ids and times are redacted; everything else must stay as it is. After an
//! intended change, review and accept with `cargo insta review` (or `INSTA_UPDATE=always`).

use insta::assert_json_snapshot;
use serde_json::{Value, json};

use crate::{harness::TestServer, users::create};

/// A small org: root "Acme" (code acme) with "Eng" (code eng), and two users, one in each.
async fn small_org(s: &TestServer) -> (crate::harness::Client, String, String) {
    let c = s.admin().await;
    let org = c.data("mutation { createOrg(name: \"Acme\", code: \"acme\") { id rootNode { id } } }", json!({})).await;
    let org_id = org["createOrg"]["id"].as_str().unwrap().to_string();
    let root = org["createOrg"]["rootNode"]["id"].as_str().unwrap().to_string();
    let eng = c
        .data("mutation($o: String!) { addNodeV2(orgId: $o, name: \"Eng\", code: \"eng\") { id } }", json!({ "o": org_id }))
        .await["addNodeV2"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ann = create(&c, json!({ "username": "ann", "email": "ann@example.com", "name": "Ann", "city": "Paris" })).await;
    let bob = create(&c, json!({ "username": "bob", "phone": "+33 1 23 45 67 89", "customData": { "team": "core" } })).await;
    c.data("mutation($n: String!, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": root, "u": [ann["id"]] })).await;
    c.data("mutation($n: String!, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": eng, "u": [bob["id"]] })).await;
    (c, org_id, root)
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_sort_maps(true);
    s.set_prepend_module_to_snapshot(false);
    for key in ["id", "userId", "orgId", "rootNodeId", "userPoolId", "createdAt", "updatedAt", "signedUp", "arn", "userIdentities", "requestId", "__id", "__groupid", "joinedAt"] {
        s.add_redaction(&format!(".**.{key}"), format!("[{key}]"));
    }
    // A parent id is redacted when there is one; null (at a root) stays visible.
    for key in ["parentId", "__parentid"] {
        s.add_redaction(&format!(".**.{key}"), insta::dynamic_redaction(move |v, _| if v.as_str().is_some() { format!("[{key}]").into() } else { v }));
    }
    s.add_redaction(".data.nodeById.children[]", "[id]");
    s.add_redaction(".data.list[].departmentIds[]", "[id]");
    s
}

#[tokio::test]
async fn event_documents_keep_seed_000_shapes() {
    let s = TestServer::start().await;
    let (c, _, _) = small_org(&s).await;
    let events = c
        .data("{ events(eventNames: [\"user:created\", \"organization:node-added\", \"organization:member-added\"]) { eventName data } }", json!({}))
        .await;
    settings().bind(|| assert_json_snapshot!("event_documents", events["events"]));
}

#[tokio::test]
async fn rest_answers_keep_their_shapes() {
    let s = TestServer::start().await;
    let (c, org_id, root) = small_org(&s).await;
    let get = |path: String| {
        let c = c.clone();
        async move { c.get(&path).await.json::<Value>().await.unwrap() }
    };
    let export = get(format!("/api/v2/orgs/export?org_id={org_id}")).await;
    let members = get(format!("/api/v2/orgs/nodes/{root}/members?includeChildrenNodes=true&sortBy=CREATEDAT_ASC")).await;
    let v3 = get("/api/v3/list-department-members?organizationCode=acme&departmentId=root&includeChildrenDepartments=true&sortBy=CreatedAt&orderBy=Asc&withCustomData=true&withDepartmentIds=true".into()).await;
    settings().bind(|| {
        assert_json_snapshot!("v2_export", export);
        assert_json_snapshot!("v2_node_members", members);
        assert_json_snapshot!("v3_list_department_members", v3);
    });
}
