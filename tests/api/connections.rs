//! Relay-style connections: `Node.usersConnection` paged forward and back equals the page-number
//! list, cursors belong to their order, and Apollo Client's `relayStylePagination()` scrolls
//! through 1,000 members with no duplicate and no gap while members are added meanwhile.

use serde_json::{Value, json};

use crate::{
    harness::{Client, TestServer},
    orgs::create_org,
    playground::browser_dir,
    sdk::run_node,
};

/// An org whose root holds `n` users, spread over the root and two children (a few in two
/// departments); the root's id.
async fn org_with_members(c: &Client, n: usize) -> String {
    let org = create_org(c, "Scroll", "scroll").await;
    let (org_id, root) = (org["id"].as_str().unwrap().to_string(), org["rootNode"]["id"].as_str().unwrap().to_string());
    let mut nodes = vec![root.clone()];
    for name in ["a", "b"] {
        let q = "mutation($o: String!, $p: String, $n: String!) { addNodeV2(orgId: $o, parentNodeId: $p, name: $n, code: $n) { id } }";
        nodes.push(c.data(q, json!({ "o": org_id, "p": root, "n": name })).await["addNodeV2"]["id"].as_str().unwrap().to_string());
    }
    let mut ids: Vec<String> = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let made = futures_util::future::join_all(chunk.iter().map(|i| {
            c.data("mutation($u: String!) { createUser(userInfo: { username: $u }) { id } }", json!({ "u": format!("member{i:04}") }))
        }))
        .await;
        ids.extend(made.iter().map(|v| v["createUser"]["id"].as_str().unwrap().to_string()));
    }
    for (i, node) in nodes.iter().enumerate() {
        let members: Vec<&String> = ids.iter().enumerate().filter(|(j, _)| j % 3 == i || j % 17 == 0).map(|(_, id)| id).collect();
        c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": node, "u": members })).await;
    }
    root
}

const CONNECTION: &str = "query($id: String!, $first: Int, $after: String, $last: Int, $before: String, $sort: SortByEnum, $sub: Boolean) {
  nodeById(id: $id) { usersConnection(first: $first, after: $after, last: $last, before: $before, sortBy: $sort, includeChildrenNodes: $sub) {
    edges { cursor node { id } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } } }";

fn ids(conn: &Value) -> Vec<String> {
    conn["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_connection_pages_forward_and_back_like_the_page_list() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let root = org_with_members(&c, 60).await;
    for sort in ["CREATEDAT_DESC", "CREATEDAT_ASC", "UPDATEDAT_DESC"] {
        for sub in [true, false] {
            let listed = c.data("query($id: String!, $sort: SortByEnum, $sub: Boolean) { nodeById(id: $id) { users(page: 1, limit: 200, sortBy: $sort, includeChildrenNodes: $sub) { totalCount list { id } } } }",
                json!({ "id": root, "sort": sort, "sub": sub })).await;
            let expected: Vec<String> = listed["nodeById"]["users"]["list"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect();
            let total = listed["nodeById"]["users"]["totalCount"].clone();

            // Forward by 7.
            let (mut forward, mut after, mut pages) = (Vec::new(), Value::Null, 0);
            loop {
                let v = c.data(CONNECTION, json!({ "id": root, "first": 7, "after": after, "sort": sort, "sub": sub })).await;
                let conn = &v["nodeById"]["usersConnection"];
                assert_eq!(conn["totalCount"], total);
                assert_eq!(conn["nodes"].as_array().unwrap().len(), conn["edges"].as_array().unwrap().len());
                assert_eq!(conn["pageInfo"]["hasPreviousPage"], !after.is_null(), "{sort} {sub}");
                forward.extend(ids(conn));
                pages += 1;
                assert!(pages <= 20, "no end");
                if conn["pageInfo"]["hasNextPage"] == false {
                    break;
                }
                after = conn["pageInfo"]["endCursor"].clone();
            }
            assert_eq!(forward, expected, "forward, {sort} subtree {sub}");

            // Back by 5 from the end.
            let (mut backward, mut before) = (Vec::new(), Value::Null);
            loop {
                let v = c.data(CONNECTION, json!({ "id": root, "last": 5, "before": before, "sort": sort, "sub": sub })).await;
                let conn = &v["nodeById"]["usersConnection"];
                let mut page = ids(conn);
                page.extend(backward);
                backward = page;
                if conn["pageInfo"]["hasPreviousPage"] == false {
                    break;
                }
                before = conn["pageInfo"]["startCursor"].clone();
            }
            assert_eq!(backward, expected, "backward, {sort} subtree {sub}");
        }
    }

    // A cursor of another order, an altered one, and both directions at once are refused.
    let v = c.data(CONNECTION, json!({ "id": root, "first": 2, "sort": "CREATEDAT_DESC", "sub": true })).await;
    let cursor = v["nodeById"]["usersConnection"]["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    for vars in [
        json!({ "id": root, "first": 2, "after": cursor, "sort": "CREATEDAT_ASC", "sub": true }),
        json!({ "id": root, "first": 2, "after": cursor, "sort": "CREATEDAT_DESC", "sub": false }),
        json!({ "id": root, "first": 2, "after": format!("{cursor}x"), "sort": "CREATEDAT_DESC", "sub": true }),
        json!({ "id": root, "first": 2, "last": 2, "sub": true }),
        json!({ "id": root, "first": 2, "before": cursor, "sub": true }),
        json!({ "id": root, "first": 100000, "sub": true }),
    ] {
        let res = c.gql_at("/graphql", CONNECTION, vars.clone()).await;
        assert_eq!(res["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{vars}: {res}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn apollo_relay_pagination_scrolls_1000_members_without_a_duplicate_or_a_gap_while_members_are_added() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let root = org_with_members(&c, 1000).await;
    let listed = c.data("query($id: String!) { nodeById(id: $id) { users(page: 1, limit: 200, includeChildrenNodes: true) { totalCount } } }", json!({ "id": root })).await;
    assert_eq!(listed["nodeById"]["users"]["totalCount"], 1000);
    let expected = {
        let mut all = Vec::new();
        for page in 1..=5 {
            let v = c.data("query($id: String!, $p: Int) { nodeById(id: $id) { users(page: $p, limit: 200, includeChildrenNodes: true) { list { id } } } }", json!({ "id": root, "p": page })).await;
            all.extend(v["nodeById"]["users"]["list"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()));
        }
        all
    };

    // Members join while the app scrolls (newest first: they come before the pages read).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let adder = {
        let (c, root, stop) = (s.admin().await, root.clone(), stop.clone());
        tokio::spawn(async move {
            let mut added = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let u = c.data("mutation($u: String!) { createUser(userInfo: { username: $u }) { id } }", json!({ "u": format!("late{added}") })).await;
                c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": root, "u": [u["createUser"]["id"]] })).await;
                added += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            added
        })
    };
    let dir = tokio::task::spawn_blocking(browser_dir).await.unwrap();
    let (url, token, id) = (s.url.clone(), c.token.clone().unwrap(), root.clone());
    let out = tokio::task::spawn_blocking(move || {
        run_node(&dir, "apollo_paging.mjs", &[("ORGRAPH_HOST", &url), ("ORGRAPH_TOKEN", &token), ("NODE_ID", &id), ("PAGE", "50"), ("SORT_BY", "CREATEDAT_DESC")])
    })
    .await
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let added = adder.await.unwrap();
    assert!(added > 0, "members were added while the app scrolled");

    let scrolled: Vec<String> = out["ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let distinct: std::collections::HashSet<&String> = scrolled.iter().collect();
    assert_eq!(distinct.len(), scrolled.len(), "no duplicate");
    // Members who joined before the first page was read come first; then every member there
    // when the app began, once, in order.
    let first = scrolled.iter().position(|id| expected.contains(id)).expect("the members scrolled");
    assert!(scrolled[..first].iter().all(|id| !expected.contains(id)));
    assert_eq!(scrolled[first..], expected[..], "every member once, in order, none missing ({} pages)", out["pages"]);
    assert!(out["pages"].as_u64().unwrap() >= 20);
    assert_eq!(out["pageInfo"]["hasNextPage"], false);
}

/// Pages of `size` of the connection at `field` (forward with `first`, or back with `last`),
/// put together in the list's order.
async fn scroll(c: &Client, field: &str, args: &str, size: i64, backward: bool) -> Vec<String> {
    let q = format!(
        "query($first: Int, $after: String, $last: Int, $before: String) {{ {field}(first: $first, after: $after, last: $last, before: $before{args}) {{
            edges {{ cursor node {{ id }} }} nodes {{ id }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} totalCount }} }}");
    let (mut all, mut cursor) = (Vec::<String>::new(), Value::Null);
    for _ in 0..100 {
        let vars = if backward { json!({ "last": size, "before": cursor }) } else { json!({ "first": size, "after": cursor }) };
        let v = c.data(&q, vars).await;
        let conn = &v[field];
        let page = ids(conn);
        let nodes: Vec<&str> = conn["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
        assert_eq!(nodes, page.iter().map(String::as_str).collect::<Vec<_>>(), "nodes are the edges' nodes");
        let (more, next) = if backward { ("hasPreviousPage", "startCursor") } else { ("hasNextPage", "endCursor") };
        if backward {
            let mut joined = page;
            joined.extend(all);
            all = joined;
        } else {
            all.extend(page);
        }
        if conn["pageInfo"][more] == false {
            return all;
        }
        cursor = conn["pageInfo"][next].clone();
    }
    panic!("{field} did not end");
}

#[tokio::test]
async fn the_pools_users_and_orgs_page_as_connections() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    for i in 0..23 {
        c.data("mutation($u: String!) { createUser(userInfo: { username: $u }) { id } }", json!({ "u": format!("pooled{i}") })).await;
    }
    for i in 0..7 {
        create_org(&c, &format!("Org {i}"), &format!("org{i}")).await;
    }
    for sort in ["CREATEDAT_DESC", "CREATEDAT_ASC", "UPDATEDAT_ASC"] {
        let listed = c.data("query($s: SortByEnum) { users(page: 1, limit: 200, sortBy: $s) { list { id } } orgs(page: 1, limit: 200, sortBy: $s) { list { id } } }", json!({ "s": sort })).await;
        let list = |k: &str| -> Vec<String> { listed[k]["list"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect() };
        let args = format!(", sortBy: {sort}");
        for backward in [false, true] {
            assert_eq!(scroll(&c, "usersConnection", &args, 4, backward).await, list("users"), "users {sort} backward {backward}");
            assert_eq!(scroll(&c, "orgsConnection", &args, 3, backward).await, list("orgs"), "orgs {sort} backward {backward}");
        }
    }
    let total = c.data("{ usersConnection(first: 1) { totalCount } orgsConnection(first: 1) { totalCount } }", json!({})).await;
    assert_eq!(total["usersConnection"]["totalCount"], 23);
    assert_eq!(total["orgsConnection"]["totalCount"], 7);
    // A cursor of one list is refused by another.
    let v = c.data("{ usersConnection(first: 1) { pageInfo { endCursor } } }", json!({})).await;
    let cursor = v["usersConnection"]["pageInfo"]["endCursor"].clone();
    let res = c.gql_at("/graphql", "query($a: String) { orgsConnection(first: 1, after: $a) { totalCount } }", json!({ "a": cursor })).await;
    assert_eq!(res["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{res}");
}
