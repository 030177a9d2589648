//! The org chart's history: `Node.history` and `User.departmentHistory` list every change (by any
//! surface, import included) with its time, actor and fields, newest first, page by page; a
//! failed change leaves none; retention deletes what ended before the horizon.

use serde_json::{Value, json};

use crate::harness::{Client, TestServer};

const NODE_HISTORY: &str = "query($id: String!, $first: Int, $after: String) { nodeById(id: $id) { history(first: $first, after: $after) {
    nodes { at actor eventName changes { field before after } } pageInfo { hasNextPage endCursor } } } }";
const USER_HISTORY: &str = "query($id: String!, $first: Int, $after: String) { user(id: $id) { departmentHistory(first: $first, after: $after) {
    nodes { at actor eventName changes { field before after } } pageInfo { hasNextPage endCursor } } } }";

/// Every entry of a history, page by page (`size` per page), newest first.
async fn all_entries(c: &Client, query: &str, root: &str, field: &str, id: &str, size: i64) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = c.data(query, json!({ "id": id, "first": size, "after": after })).await;
        let page = &d[root][field];
        let nodes = page["nodes"].as_array().expect("nodes");
        assert!(nodes.len() as i64 <= size, "a page holds at most `first` entries: {page}");
        entries.extend(nodes.iter().cloned());
        if !page["pageInfo"]["hasNextPage"].as_bool().expect("hasNextPage") {
            return entries;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

fn names(entries: &[Value]) -> Vec<&str> {
    entries.iter().map(|e| e["eventName"].as_str().expect("eventName")).collect()
}

fn change<'a>(entry: &'a Value, field: &str) -> Option<&'a Value> {
    entry["changes"].as_array().expect("changes").iter().find(|c| c["field"] == field)
}

async fn org(c: &Client, code: &str) -> (String, String) {
    let d = c.data("mutation($c: String) { createOrg(name: \"Acme\", code: $c) { id rootNode { id } } }", json!({ "c": code })).await;
    (d["createOrg"]["id"].as_str().expect("id").into(), d["createOrg"]["rootNode"]["id"].as_str().expect("root").into())
}

async fn node(c: &Client, org: &str, parent: &str, name: &str) -> String {
    let d = c
        .data("mutation($o: String!, $p: String, $n: String!) { addNodeV2(orgId: $o, parentNodeId: $p, name: $n) { id } }", json!({ "o": org, "p": parent, "n": name }))
        .await;
    d["addNodeV2"]["id"].as_str().expect("id").into()
}

async fn user(c: &Client, name: &str) -> String {
    let d = c.data("mutation($u: String) { createUser(userInfo: { username: $u }) { id } }", json!({ "u": name })).await;
    d["createUser"]["id"].as_str().expect("id").into()
}

#[tokio::test]
async fn every_change_of_a_department_and_a_membership_is_listed_with_time_actor_and_fields() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let (org_id, root) = org(&c, "acme").await;
    let (eng, ops) = (node(&c, &org_id, &root, "Eng").await, node(&c, &org_id, &root, "Ops").await);
    let ann = user(&c, "ann").await;
    c.data("mutation($n: String!, $u: String!) { updateNode(id: $n, name: \"Engineering\", leaderUserIds: [$u]) { id } }", json!({ "n": eng, "u": ann })).await;
    c.data("mutation($n: String!, $u: String!) { addMember(nodeId: $n, userIds: [$u], isLeader: true) { id } }", json!({ "n": eng, "u": ann })).await;
    c.data("mutation($o: String!, $n: String!, $p: String!) { moveNode(orgId: $o, nodeId: $n, targetParentId: $p) { id } }", json!({ "o": org_id, "n": eng, "p": ops }))
        .await;
    c.data("mutation($u: String!, $n: String!) { setMainDepartment(userId: $u, departmentId: $n) { code } }", json!({ "u": ann, "n": eng })).await;
    // A change that fails writes no history.
    let (code, _) = c.error("mutation($n: String!) { addMember(nodeId: $n, userIds: [\"nobody\"]) { id } }", json!({ "n": eng })).await;
    assert_ne!(code, "<none>");

    let entries = all_entries(&c, NODE_HISTORY, "nodeById", "history", &eng, 2).await;
    assert_eq!(
        names(&entries),
        ["organization:member-updated", "organization:node-moved", "organization:member-added", "organization:node-updated", "organization:node-added"],
        "{entries:#?}"
    );
    let at: Vec<&str> = entries.iter().map(|e| e["at"].as_str().expect("at")).collect();
    assert!(at.windows(2).all(|w| w[0] > w[1]), "newest first, one entry per change: {at:?}");
    assert!(entries.iter().all(|e| e["actor"] == s.pool_id.as_str()), "the token's subject made every change: {entries:#?}");
    let [main, moved, joined, updated, added] = &entries[..] else { unreachable!() };
    assert_eq!(change(main, "isMainDepartment"), Some(&json!({ "field": "isMainDepartment", "before": false, "after": true })));
    assert_eq!(change(moved, "parentId"), Some(&json!({ "field": "parentId", "before": root, "after": ops })));
    assert_eq!(moved["changes"].as_array().map(Vec::len), Some(1), "{moved}");
    assert_eq!(change(joined, "userId").map(|c| &c["after"]), Some(&json!(ann)));
    assert_eq!(change(joined, "isLeader").map(|c| &c["after"]), Some(&json!(true)));
    assert_eq!(change(updated, "name"), Some(&json!({ "field": "name", "before": "Eng", "after": "Engineering" })));
    assert_eq!(change(updated, "leaderUserIds"), Some(&json!({ "field": "leaderUserIds", "before": [], "after": [ann] })));
    assert_eq!(change(added, "name").map(|c| (&c["before"], &c["after"])), Some((&Value::Null, &json!("Eng"))));
    assert_eq!(change(added, "parentId").map(|c| &c["after"]), Some(&json!(root)));

    // Deleting the parent deletes the subtree: the user's history shows the department left.
    c.data("mutation($o: String!, $n: String!) { deleteNode(orgId: $o, nodeId: $n) { code } }", json!({ "o": org_id, "n": ops })).await;
    let mine = all_entries(&c, USER_HISTORY, "user", "departmentHistory", &ann, 1).await;
    assert_eq!(names(&mine), ["organization:member-removed", "organization:member-updated", "organization:member-added"], "{mine:#?}");
    assert_eq!(change(&mine[0], "departmentId"), Some(&json!({ "field": "departmentId", "before": eng, "after": null })));
    assert_eq!(change(&mine[2], "departmentId").map(|c| &c["after"]), Some(&json!(eng)));
}

#[tokio::test]
async fn history_names_the_actor_of_scim_and_of_imports_and_stays_in_its_pool() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let token = crate::scim::scim_token(&c, "okta").await;
    let res = reqwest::Client::new()
        .post(format!("{}/scim/v2/Groups", s.url))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .json(&json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Sales" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 201);
    let group: Value = res.json().await.expect("json");
    let sales = group["id"].as_str().expect("id");
    let entries = all_entries(&c, NODE_HISTORY, "nodeById", "history", sales, 10).await;
    assert_eq!(entries[0]["actor"], "scim:okta", "{entries:#?}");

    let res = c.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": { "name": "Imp", "code": "imp", "children": [{ "name": "x", "code": "x" }] } })).await;
    assert_eq!(crate::harness::v2_status(res).await, 200);
    let d = c.data("{ orgs(limit: 50) { list { id rootNode { code } nodes { id code } } } }", json!({})).await;
    let imported = d["orgs"]["list"].as_array().expect("list").iter().find(|o| o["rootNode"]["code"] == "imp").expect("imported org").clone();
    let x = imported["nodes"].as_array().expect("nodes").iter().find(|n| n["code"] == "x").expect("x")["id"].as_str().expect("id").to_string();
    let entries = all_entries(&c, NODE_HISTORY, "nodeById", "history", &x, 10).await;
    assert_eq!((entries.len(), entries[0]["actor"].as_str()), (1, Some("import")), "{entries:#?}");

    // Another pool sees none of it.
    let (pool, secret) = s.new_pool("other").await;
    let other = s.client_for(&pool, &secret).await;
    let (code, _) = other.error(NODE_HISTORY, json!({ "id": x })).await;
    assert_eq!(code, "NOT_FOUND");
}

#[tokio::test]
async fn retention_deletes_the_history_that_ended_before_its_horizon_only() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let (org_id, root) = org(&c, "ret").await;
    let dept = node(&c, &org_id, &root, "Old").await;
    c.data("mutation($n: String!) { updateNode(id: $n, name: \"New\") { id } }", json!({ "n": dept })).await;
    assert_eq!(all_entries(&c, NODE_HISTORY, "nodeById", "history", &dept, 10).await.len(), 2);

    // The first version ended 40 days ago (as if it had); a 30-day retention deletes it.
    let forty_days_ago = chrono::Utc::now() - chrono::Duration::days(40);
    let db = &s.state.db;
    let sql = orgraph::storage::sql::exec(
        db,
        "UPDATE node_version SET valid_from = $1, valid_to = $2 WHERE id = $3 AND valid_to IS NOT NULL",
        vec![(forty_days_ago - chrono::Duration::days(1)).into(), forty_days_ago.into(), dept.clone().into()],
    );
    assert_eq!(sql.await.expect("aged"), 1);
    assert_eq!(s.state.history.prune(45).await.expect("prune"), 0, "nothing ended before 45 days");
    assert_eq!(s.state.history.prune(30).await.expect("prune"), 1);
    let entries = all_entries(&c, NODE_HISTORY, "nodeById", "history", &dept, 10).await;
    assert_eq!(entries.len(), 1, "the current version stays: {entries:#?}");
    assert_eq!(change(&entries[0], "name").map(|c| &c["after"]), Some(&json!("New")));
}

#[tokio::test]
async fn as_of_answers_the_tree_as_it_was_even_for_a_department_deleted_since() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let before_org = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (org_id, root) = org(&c, "asof").await;
    let eng = node(&c, &org_id, &root, "Eng").await;
    let ann = user(&c, "ann").await;
    c.data("mutation($n: String!, $u: String!) { addMember(nodeId: $n, userIds: [$u]) { id } }", json!({ "n": eng, "u": ann })).await;
    let existed = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    c.data("mutation($n: String!) { updateNode(id: $n, name: \"Engineering\") { id } }", json!({ "n": eng })).await;
    c.data("mutation($o: String!, $n: String!) { deleteNode(orgId: $o, nodeId: $n) { code } }", json!({ "o": org_id, "n": eng })).await;
    c.data("mutation($u: String!) { updateUser(id: $u, input: { nickname: \"Annie\" }) { id } }", json!({ "u": ann })).await;

    let query = "query($id: String!, $at: String) { nodeById(id: $id, asOf: $at) { id name namePath path depth
        users(includeChildrenNodes: true) { totalCount list { id nickname departments { list { department { name } } } } } } }";
    let then = c.data(query, json!({ "id": eng, "at": existed })).await;
    assert_eq!(
        then["nodeById"],
        json!({ "id": eng, "name": "Eng", "namePath": ["Acme", "Eng"], "path": [root, eng], "depth": 1,
            "users": { "totalCount": 1, "list": [{ "id": ann, "nickname": null, "departments": { "list": [{ "department": { "name": "Eng" } }] } }] } })
    );
    let root_then = c.data("query($o: String!, $at: String) { rootNode(orgId: $o, asOf: $at) { childNodes { name } users(includeChildrenNodes: true) { totalCount } } }", json!({ "o": org_id, "at": existed })).await;
    assert_eq!(root_then["rootNode"], json!({ "childNodes": [{ "name": "Eng" }], "users": { "totalCount": 1 } }));

    // Now (or later), the department is gone; before the org existed, so was the org.
    let (code, _) = c.error(query, json!({ "id": eng, "at": "2999-01-01T00:00:00Z" })).await;
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = c.error("query($o: String!, $at: String) { org(id: $o, asOf: $at) { id } }", json!({ "o": org_id, "at": before_org })).await;
    assert_eq!(code, "NOT_FOUND");
    let now = c.data("query($o: String!, $at: String) { org(id: $o, asOf: $at) { nodes { name } } }", json!({ "o": org_id, "at": "2999-01-01T00:00:00Z" })).await;
    assert_eq!(now["org"]["nodes"], json!([{ "name": "Acme" }]));
    let (code, message) = c.error("query($o: String!) { org(id: $o, asOf: \"yesterday\") { id } }", json!({ "o": org_id })).await;
    assert!(code != "NOT_FOUND" && message.contains("RFC 3339"), "{code}: {message}");

    // Each past read reads a whole org: a document cannot ask for many at once.
    let many: Vec<String> = (0..6).map(|i| format!("n{i}: nodeById(id: $id, asOf: $at) {{ id }}")).collect();
    let (code, message) = c.spec_error(&format!("query($id: String!, $at: String) {{ {} }}", many.join(" ")), json!({ "id": eng, "at": existed })).await;
    assert!(message.contains("too complex") && code == "QUERY_TOO_COMPLEX", "{code}: {message}");

    // Another pool cannot read this pool's past.
    let (pool, secret) = s.new_pool("other").await;
    let other = s.client_for(&pool, &secret).await;
    let (code, _) = other.error(query, json!({ "id": eng, "at": existed })).await;
    assert_eq!(code, "NOT_FOUND");
}

#[tokio::test]
async fn as_of_before_the_retention_horizon_is_refused() {
    let s = TestServer::start_with(|c| c.history_retention_days = Some(30)).await;
    let c = s.admin().await;
    let (org_id, _) = org(&c, "kept").await;
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(31)).to_rfc3339();
    let (code, message) = c.error("query($o: String!, $at: String) { org(id: $o, asOf: $at) { id } }", json!({ "o": org_id, "at": long_ago })).await;
    assert!(code != "NOT_FOUND" && message.contains("30 days"), "{code}: {message}");
    c.data("query($o: String!, $at: String) { org(id: $o, asOf: $at) { id } }", json!({ "o": org_id, "at": chrono::Utc::now().to_rfc3339() })).await;
}

/// Move every version of the test's database `hours` into the past (as if its changes were
/// that old); SQLite keeps the times as text, to the millisecond here.
async fn age_history(s: &TestServer, hours: i64) {
    let postgres = s.state.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    for table in ["users", "org", "node", "membership", "node_leader"] {
        let shift = |c: &str| {
            if postgres {
                format!("{c} = {c} - interval '{hours} hours'")
            } else {
                format!("{c} = strftime('%Y-%m-%dT%H:%M:%f', {c}, '-{hours} hours') || '+00:00'")
            }
        };
        let sql = format!("UPDATE {table}_version SET {}, {}", shift("valid_from"), shift("valid_to"));
        orgraph::storage::sql::exec(&s.state.db, &sql, vec![]).await.expect("aged");
    }
}

#[tokio::test]
async fn a_settled_past_is_kept_and_answers_alike_after_later_changes() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let (org_id, root) = org(&c, "settled").await;
    let eng = node(&c, &org_id, &root, "Eng").await;
    let ann = user(&c, "ann").await;
    c.data("mutation($n: String!, $u: String!) { addMember(nodeId: $n, userIds: [$u]) { id } }", json!({ "n": eng, "u": ann })).await;
    age_history(&s, 2).await;
    let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let listing = "query($o: String!, $at: String) { org(id: $o, asOf: $at) { nodes { id name depth } } }";
    let page = "query($id: String!, $at: String) { nodeById(id: $id, asOf: $at) { name users(includeChildrenNodes: true) { totalCount list { id } } } }";
    let expected_listing = json!({ "org": { "nodes": [{ "id": root, "name": "Acme", "depth": 0 }, { "id": eng, "name": "Eng", "depth": 1 }] } });
    let expected_page = json!({ "nodeById": { "name": "Acme", "users": { "totalCount": 1, "list": [{ "id": ann }] } } });
    // Every department's count at once (counted once for the kept tree, no list read).
    let counts = "query($o: String!, $at: String) { org(id: $o, asOf: $at) { nodes { id all: users(includeChildrenNodes: true) { totalCount } own: users { totalCount } } } }";
    let expected_counts = json!({ "org": { "nodes": [
        { "id": root, "all": { "totalCount": 1 }, "own": { "totalCount": 0 } },
        { "id": eng, "all": { "totalCount": 1 }, "own": { "totalCount": 1 } },
    ] } });
    for _ in 0..2 {
        assert_eq!(c.data(listing, json!({ "o": org_id, "at": hour_ago })).await, expected_listing);
        assert_eq!(c.data(page, json!({ "id": root, "at": hour_ago })).await, expected_page);
        assert_eq!(c.data(counts, json!({ "o": org_id, "at": hour_ago })).await, expected_counts);
    }
    // Later changes leave that past as it was; the present shows them.
    c.data("mutation($n: String!) { updateNode(id: $n, name: \"Engineering\") { id } }", json!({ "n": eng })).await;
    c.data("mutation($n: String!, $u: String!) { removeMember(nodeId: $n, userIds: [$u]) { id } }", json!({ "n": eng, "u": ann })).await;
    assert_eq!(c.data(listing, json!({ "o": org_id, "at": hour_ago })).await, expected_listing);
    assert_eq!(c.data(page, json!({ "id": root, "at": hour_ago })).await, expected_page);
    assert_eq!(c.data(counts, json!({ "o": org_id, "at": hour_ago })).await, expected_counts);
    let now = chrono::Utc::now().to_rfc3339();
    let d = c.data(page, json!({ "id": root, "at": now })).await;
    assert_eq!(d["nodeById"]["users"]["totalCount"], 0);
    // Another pool asking for the same org at the same instant gets nothing of it.
    let (pool, secret) = s.new_pool("other").await;
    let other = s.client_for(&pool, &secret).await;
    let (code, _) = other.error(listing, json!({ "o": org_id, "at": hour_ago })).await;
    assert_eq!(code, "NOT_FOUND");
}

#[tokio::test]
async fn large_past_member_lists_page_as_the_current_ones_do() {
    use orgraph::domain::{org_tree::NodeRef, users::{CreateOptions, UserPatch}};
    let s = TestServer::start().await;
    let c = s.admin().await;
    let pool = s.pool().await;
    let (org_id, root) = org(&c, "large").await;
    let a = node(&c, &org_id, &root, "A").await;
    let b = node(&c, &org_id, &a, "B").await;
    let mut users = Vec::new();
    for i in 0..1_300 {
        let patch = UserPatch { username: Some(Some(format!("u{i}"))), ..Default::default() };
        users.push(s.state.users.create(&pool, patch, CreateOptions::default()).await.expect("user").id);
    }
    // 1,300 members under A (more than a past page gathers), 400 of them in B too.
    s.state.orgs.add_members(&pool, &NodeRef::Id(a.clone()), &users[..900], None).await.expect("members");
    s.state.orgs.add_members(&pool, &NodeRef::Id(b.clone()), &users[500..], None).await.expect("members");
    c.data("mutation($u: String!) { updateUser(id: $u, input: { nickname: \"touched\" }) { id } }", json!({ "u": users[7] })).await;
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let page = "query($id: String!, $at: String, $p: Int, $s: SortByEnum, $all: Boolean) { nodeById(id: $id, asOf: $at) {
        users(page: $p, limit: 50, sortBy: $s, includeChildrenNodes: $all) { totalCount list { id } } } }";
    for (id, all) in [(&root, true), (&a, true), (&a, false), (&b, false)] {
        for sort in ["CREATEDAT_DESC", "CREATEDAT_ASC", "UPDATEDAT_DESC", "UPDATEDAT_ASC"] {
            for p in [1, 4, 27] {
                let vars = |at: Value| json!({ "id": id, "at": at, "p": p, "s": sort, "all": all });
                let now = c.data(page, vars(Value::Null)).await;
                let then = c.data(page, vars(json!(at))).await;
                assert_eq!(then, now, "{id} (subtree: {all}) by {sort}, page {p}");
            }
        }
    }
    // Settled (older than a minute: that past never changes), the kept tree counts every
    // department's members once; the pages are the same.
    age_history(&s, 2).await;
    let settled = (chrono::DateTime::parse_from_rfc3339(&at).expect("at") - chrono::Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    for (id, all) in [(&root, true), (&a, true), (&a, false), (&b, false), (&b, true)] {
        for p in [1, 27] {
            let vars = |at: Value| json!({ "id": id, "at": at, "p": p, "s": "CREATEDAT_DESC", "all": all });
            let (then, now) = (c.data(page, vars(json!(settled))).await, c.data(page, vars(Value::Null)).await);
            assert_eq!(then, now, "settled: {id} (subtree: {all}), page {p}");
        }
    }
    // Later changes do not reach the past.
    s.state.orgs.remove_members(&pool, &NodeRef::Id(a.clone()), &users[..100]).await.expect("removed");
    let then = c.data(page, json!({ "id": root, "at": at, "p": 1, "s": "CREATEDAT_ASC", "all": true })).await;
    assert_eq!(then["nodeById"]["users"]["totalCount"], 1_300);
}
