//! The org tree over GraphQL: orgs, nodes, moves, deletes, members, and their errors.

use serde_json::{Value, json};

use crate::{harness::{Client, TestServer}, users::create};

pub const NODE: &str = "id orgId name nameI18n description descriptionI18n order code root depth path codePath namePath children createdAt updatedAt";

pub async fn create_org(c: &Client, name: &str, code: &str) -> Value {
    let q = format!("mutation($n: String!, $c: String) {{ createOrg(name: $n, code: $c, description: \"d\") {{ id rootNode {{ {NODE} }} nodes {{ id }} }} }}");
    c.data(&q, json!({ "n": name, "c": code })).await["createOrg"].clone()
}

pub async fn add_node(c: &Client, org: &str, parent: &str, name: &str, code: Option<&str>) -> Value {
    let q = format!("mutation($o: String!, $p: String, $n: String!, $c: String) {{ addNodeV2(orgId: $o, parentNodeId: $p, name: $n, code: $c) {{ {NODE} }} }}");
    c.data(&q, json!({ "o": org, "p": parent, "n": name, "c": code })).await["addNodeV2"].clone()
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn user(c: &Client, name: &str) -> String {
    id(&create(c, json!({ "username": name })).await)
}

pub(crate) async fn add_members(c: &Client, node: &str, users: &[&str]) -> Value {
    c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id users { totalCount } } }",
        json!({ "n": node, "u": users })).await["addMember"].clone()
}

async fn members(c: &Client, node: &str, include: bool, limit: i64) -> (i64, Vec<String>) {
    let d = c.data("query($id: String!, $i: Boolean, $l: Int) { nodeById(id: $id) { users(includeChildrenNodes: $i, limit: $l, sortBy: CREATEDAT_ASC) { totalCount list { id } } } }",
        json!({ "id": node, "i": include, "l": limit })).await;
    let u = &d["nodeById"]["users"];
    (u["totalCount"].as_i64().unwrap(), u["list"].as_array().unwrap().iter().map(id).collect())
}

async fn check(s: &TestServer, org: &str) {
    let problems = s.state.orgs.check_invariants(org).await.expect("check runs");
    assert!(problems.is_empty(), "invariants broken: {problems:#?}");
}

#[tokio::test]
async fn a_tree_with_paths_children_and_depths() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme").await;
    let org_id = id(&org);
    let root = &org["rootNode"];
    assert_eq!(root["root"], true);
    assert_eq!(root["depth"], 0);
    assert_eq!(root["name"], "Acme");
    assert_eq!(root["code"], "acme");
    assert_eq!(root["path"], json!([root["id"]]));
    assert_eq!(root["children"], json!([]));
    let root_id = id(root);

    let dev = add_node(&c, &org_id, &root_id, "Dev", Some("dev")).await;
    let ops = add_node(&c, &org_id, &root_id, "Ops", Some("ops")).await;
    let backend = add_node(&c, &org_id, &id(&dev), "Backend", Some("backend")).await;
    assert_eq!(backend["depth"], 2);
    assert_eq!(backend["root"], false);
    assert_eq!(backend["path"], json!([root_id, id(&dev), id(&backend)]));
    assert_eq!(backend["codePath"], json!(["acme", "dev", "backend"]));
    assert_eq!(backend["namePath"], json!(["Acme", "Dev", "Backend"]));
    // parentNodeId may be left out: the node goes under the root.
    let misc = add_node(&c, &org_id, "", "Misc", None).await;
    assert_eq!(misc["depth"], 1);

    let q = format!("query($id: String!) {{ org(id: $id) {{ id rootNode {{ {NODE} }} nodes {{ {NODE} }} }} }}");
    let o = c.data(&q, json!({ "id": org_id })).await["org"].clone();
    assert_eq!(o["nodes"].as_array().unwrap().len(), 5);
    let children: Vec<String> = serde_json::from_value(o["rootNode"]["children"].clone()).unwrap();
    assert_eq!(children.len(), 3);
    for child in [&dev, &ops, &misc] {
        assert!(children.contains(&id(child)));
    }
    let listed_backend = o["nodes"].as_array().unwrap().iter().find(|n| n["id"] == backend["id"]).unwrap().clone();
    assert_eq!(listed_backend["path"], backend["path"], "paths agree between org listing and single node");

    // Lookups.
    let d = c.data("query($o: String!) { nodeByCode(orgId: $o, code: \"backend\") { id } }", json!({ "o": org_id })).await;
    assert_eq!(d["nodeByCode"]["id"], backend["id"]);
    let d = c.data("query($o: String!, $n: String!) { isRootNode(orgId: $o, nodeId: $n) }", json!({ "o": org_id, "n": root_id })).await;
    assert_eq!(d["isRootNode"], true);
    let d = c.data("query($o: String!, $n: String!) { isRootNode(orgId: $o, nodeId: $n) }", json!({ "o": org_id, "n": id(&dev) })).await;
    assert_eq!(d["isRootNode"], false);
    let d = c.data("query($n: String!) { childrenNodes(nodeId: $n) { id } }", json!({ "n": id(&dev) })).await;
    assert_eq!(d["childrenNodes"], json!([{ "id": backend["id"] }]));
    let d = c.data("query($o: String!) { rootNode(orgId: $o) { id codePath namePath } }", json!({ "o": org_id })).await;
    assert_eq!(d["rootNode"]["id"], root_id.as_str());
    let d = c.data("{ searchNodes(keyword: \"END\") { id } }", json!({})).await;
    assert_eq!(d["searchNodes"], json!([{ "id": backend["id"] }]), "case-insensitive, matches name");
    let d = c.data("{ searchNodes(keyword: \"%\") { id } }", json!({})).await;
    assert_eq!(d["searchNodes"], json!([]), "wildcards are literal");

    // Nested child nodes to any depth the limit allows.
    let d = c.data("query($id: String!) { nodeById(id: $id) { childNodes { name childNodes { name users { totalCount } } } } }", json!({ "id": root_id })).await;
    let dev_children = d["nodeById"]["childNodes"].as_array().unwrap().iter().find(|n| n["name"] == "Dev").unwrap()["childNodes"].clone();
    assert_eq!(dev_children, json!([{ "name": "Backend", "users": { "totalCount": 0 } }]));
    check(&s, &org_id).await;
}

#[tokio::test]
async fn codes_are_unique_within_an_org_and_orgs_by_code() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "A", "a").await;
    let org_id = id(&org);
    let root = id(&org["rootNode"]);
    add_node(&c, &org_id, &root, "X", Some("x")).await;
    let q = "mutation($o: String!, $p: String, $c: String) { addNodeV2(orgId: $o, parentNodeId: $p, name: \"Y\", code: $c) { id } }";
    let res = c.gql(q, json!({ "o": org_id, "p": root, "c": "x" })).await;
    assert_eq!(res["errors"][0]["extensions"]["code"], "CONFLICT");
    assert_eq!(res["errors"][0]["extensions"]["field"], "code");
    // The same code in another org is fine; another org with the same org code is not.
    let other = create_org(&c, "B", "b").await;
    add_node(&c, &id(&other), &id(&other["rootNode"]), "X", Some("x")).await;
    let (code, _) = c.error("mutation { createOrg(name: \"C\", code: \"a\") { id } }", json!({})).await;
    assert_eq!(code, "CONFLICT");
    for (args, field) in [
        (json!({ "o": org_id, "p": root, "c": "bad code!" }), "code"),
        (json!({ "o": org_id, "p": "nope", "c": "z" }), ""),
    ] {
        let res = c.gql(q, args.clone()).await;
        let code = res["errors"][0]["extensions"]["code"].as_str().unwrap().to_string();
        assert!(code == "INVALID_INPUT" || code == "NOT_FOUND", "{args}: {res}");
        if !field.is_empty() {
            assert_eq!(res["errors"][0]["extensions"]["field"], field);
        }
    }
    let (code, _) = c.error("mutation($o: String!) { addNodeV2(orgId: $o, name: \"  \") { id } }", json!({ "o": org_id })).await;
    assert_eq!(code, "INVALID_INPUT");
    let (code, _) = c.error("mutation($o: String!) { addNodeV2(orgId: $o, name: \"n\", order: -1) { id } }", json!({ "o": org_id })).await;
    assert_eq!(code, "INVALID_INPUT");
    let (code, _) = c.error("mutation($o: String!) { addNodeV2(orgId: $o, name: \"n\", nameI18n: \"not json\") { id } }", json!({ "o": org_id })).await;
    assert_eq!(code, "INVALID_INPUT");
    check(&s, &org_id).await;
}

#[tokio::test]
async fn update_node_sets_clears_and_refuses_taken_codes() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "A", "a").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let n = add_node(&c, &org_id, &root, "N", Some("n")).await;
    add_node(&c, &org_id, &root, "M", Some("m")).await;
    let q = "mutation($id: String!, $name: String, $code: String, $d: String, $o: Int, $i18n: String) {
        updateNode(id: $id, name: $name, code: $code, description: $d, order: $o, nameI18n: $i18n) { name code description order nameI18n users { totalCount } } }";
    let d = c.data(q, json!({ "id": id(&n), "name": "N2", "d": "desc", "o": 5, "i18n": "{\"en-US\":\"N2\"}" })).await;
    assert_eq!(d["updateNode"], json!({ "name": "N2", "code": "n", "description": "desc", "order": 5, "nameI18n": "{\"en-US\":\"N2\"}", "users": { "totalCount": 0 } }));
    // Variables the document declares but the caller leaves out keep their field (the SDK
    // declares them all); "" clears.
    let d = c.data(q, json!({ "id": id(&n), "code": null })).await;
    assert_eq!(d["updateNode"]["code"], "n");
    let d = c.data(q, json!({ "id": id(&n), "code": "" })).await;
    assert_eq!(d["updateNode"]["code"], Value::Null);
    let (code, _) = c.error(q, json!({ "id": id(&n), "code": "m" })).await;
    assert_eq!(code, "CONFLICT");
    let (code, _) = c.error(q, json!({ "id": "missing", "name": "x" })).await;
    assert_eq!(code, "NOT_FOUND");
    check(&s, &org_id).await;
}

#[tokio::test]
async fn members_are_counted_once_per_subtree() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "A", "a").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let dev = id(&add_node(&c, &org_id, &root, "Dev", None).await);
    let be = id(&add_node(&c, &org_id, &dev, "BE", None).await);
    let fe = id(&add_node(&c, &org_id, &dev, "FE", None).await);
    let (u1, u2, u3) = (user(&c, "u1").await, user(&c, "u2").await, user(&c, "u3").await);

    assert_eq!(add_members(&c, &be, &[&u1, &u2]).await["users"]["totalCount"], 2);
    add_members(&c, &fe, &[&u1, &u3]).await; // u1 sits in two nodes of dev's subtree
    add_members(&c, &dev, &[&u2]).await;
    assert_eq!(members(&c, &dev, false, 10).await, (1, vec![u2.clone()]));
    let (total, list) = members(&c, &dev, true, 10).await;
    assert_eq!(total, 3, "u1, u2, u3 once each");
    assert_eq!(list, vec![u1.clone(), u2.clone(), u3.clone()]);
    assert_eq!(members(&c, &root, true, 2).await, (3, vec![u1.clone(), u2.clone()]));
    assert_eq!(members(&c, &root, false, 10).await.0, 0);

    // Adding again is harmless; unknown users add nothing.
    add_members(&c, &be, &[&u1]).await;
    let (code, _) = c.error("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }",
        json!({ "n": be, "u": [u3, "ghost"] })).await;
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(members(&c, &be, false, 10).await.0, 2, "u3 was not added");

    // By org and node code too.
    c.data("mutation($o: String!, $c: String!) { updateNode(id: $o, code: $c) { id } }", json!({ "o": fe, "c": "fe" })).await;
    let d = c.data("mutation($o: String, $u: [String!]!) { removeMember(orgId: $o, nodeCode: \"fe\", userIds: $u) { users { totalCount } } }",
        json!({ "o": org_id, "u": [u1] })).await;
    assert_eq!(d["removeMember"]["users"]["totalCount"], 1);
    assert_eq!(members(&c, &dev, true, 10).await.0, 3, "u1 still in BE");
    let (code, _) = c.error("mutation($n: String, $u: [String!]!) { removeMember(nodeId: $n, userIds: $u) { id } }",
        json!({ "n": fe, "u": [u1] })).await;
    assert_eq!(code, "NOT_FOUND", "not a member any more");

    // Move members; the user's departments follow.
    c.data("mutation($u: [String!]!, $s: String!, $t: String!) { moveMembers(userIds: $u, sourceNodeId: $s, targetNodeId: $t) { code } }",
        json!({ "u": [u2], "s": be, "t": fe })).await;
    let d = c.data("mutation($u: String!, $d: String) { setMainDepartment(userId: $u, departmentId: $d) { code } }", json!({ "u": u2, "d": fe })).await;
    assert_eq!(d["setMainDepartment"]["code"], 200);
    let (code, _) = c.error("mutation($u: String!, $d: String) { setMainDepartment(userId: $u, departmentId: $d) { code } }", json!({ "u": u2, "d": be })).await;
    assert_eq!(code, "INVALID_INPUT", "not a member of BE any more");
    let d = c.data("query($u: String) { user(id: $u) { departments { totalCount list { department { id name } isMainDepartment joinedAt } } } }", json!({ "u": u2 })).await;
    let deps = &d["user"]["departments"];
    assert_eq!(deps["totalCount"], 2);
    assert_eq!(deps["list"][0]["department"]["id"], fe.as_str());
    assert_eq!(deps["list"][0]["isMainDepartment"], true);
    assert_eq!(deps["list"][1]["department"]["id"], dev.as_str());

    // excludeUsersInOrg
    let loner = user(&c, "loner").await;
    let d = c.data("{ users(excludeUsersInOrg: true) { totalCount list { id } } }", json!({})).await;
    assert_eq!(d["users"], json!({ "totalCount": 1, "list": [{ "id": loner }] }));

    // Deleting a user takes them off every count; deleting a node never deletes users.
    c.data("mutation($id: String!) { deleteUser(id: $id) { code } }", json!({ "id": u3 })).await;
    assert_eq!(members(&c, &dev, true, 10).await.0, 2);
    c.data("mutation($o: String!, $n: String!) { deleteNode(orgId: $o, nodeId: $n) { code } }", json!({ "o": org_id, "n": dev })).await;
    assert_eq!(members(&c, &root, true, 10).await.0, 0);
    let d = c.data("{ users { totalCount } }", json!({})).await;
    assert_eq!(d["users"]["totalCount"], 3, "u1, u2 and loner remain");
    check(&s, &org_id).await;
}

#[tokio::test]
async fn moves_keep_paths_and_members_and_refuse_cycles() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "A", "a").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let a = id(&add_node(&c, &org_id, &root, "A1", None).await);
    let b = id(&add_node(&c, &org_id, &a, "B", None).await);
    let cc = id(&add_node(&c, &org_id, &b, "C", None).await);
    let x = id(&add_node(&c, &org_id, &root, "X", None).await);
    let u = user(&c, "u").await;
    add_members(&c, &cc, &[&u]).await;

    let mv = "mutation($o: String!, $n: String!, $t: String!) { moveNode(orgId: $o, nodeId: $n, targetParentId: $t) { id nodes { id depth path } } }";
    for (node, target, what) in [(&a, &a, "itself"), (&a, &cc, "a descendant"), (&root, &x, "the root")] {
        let (code, msg) = c.error(mv, json!({ "o": org_id, "n": node, "t": target })).await;
        assert_eq!(code, "INVALID_INPUT", "moving under {what}: {msg}");
    }
    let other = create_org(&c, "Other", "other").await;
    let (code, msg) = c.error(mv, json!({ "o": org_id, "n": b, "t": id(&other["rootNode"]) })).await;
    assert_eq!(code, "INVALID_INPUT");
    assert!(msg.contains("another organization"), "{msg}");

    let d = c.data(mv, json!({ "o": org_id, "n": b, "t": x })).await;
    let nodes = d["moveNode"]["nodes"].as_array().unwrap();
    let cnode = nodes.iter().find(|n| n["id"] == cc.as_str()).unwrap();
    assert_eq!(cnode["path"], json!([root, x, b, cc]));
    assert_eq!(cnode["depth"], 3);
    assert_eq!(members(&c, &x, true, 10).await.0, 1, "the member moved with the subtree");
    assert_eq!(members(&c, &a, true, 10).await.0, 0);
    assert_eq!(members(&c, &root, true, 10).await.0, 1);
    // Up one level.
    c.data(mv, json!({ "o": org_id, "n": cc, "t": root })).await;
    let d = c.data("query($id: String!) { nodeById(id: $id) { depth path } }", json!({ "id": cc })).await;
    assert_eq!(d["nodeById"], json!({ "depth": 1, "path": [root, cc] }));
    check(&s, &org_id).await;
}

#[tokio::test]
async fn orgs_list_read_and_delete() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let a = create_org(&c, "A", "a").await;
    let b = create_org(&c, "B", "b").await;
    let u = user(&c, "u").await;
    add_members(&c, &id(&b["rootNode"]), &[&u]).await;
    let q = "query($p: Int, $l: Int) { orgs(page: $p, limit: $l) { totalCount list { id rootNode { name } } } }";
    let d = c.data(q, json!({ "p": 1, "l": 1 })).await;
    assert_eq!(d["orgs"]["totalCount"], 2);
    assert_eq!(d["orgs"]["list"], json!([{ "id": b["id"], "rootNode": { "name": "B" } }]), "newest first");
    let (code, _) = c.error(q, json!({ "p": 0, "l": 1 })).await;
    assert_eq!(code, "INVALID_INPUT");
    let d = c.data("mutation($id: String!) { deleteOrg(id: $id) { code message } }", json!({ "id": b["id"] })).await;
    assert_eq!(d["deleteOrg"]["code"], 200);
    let (code, _) = c.error("query($id: String!) { org(id: $id) { id } }", json!({ "id": b["id"] })).await;
    assert_eq!(code, "NOT_FOUND");
    let d = c.data("query($u: String) { user(id: $u) { departments { totalCount } } }", json!({ "u": u })).await;
    assert_eq!(d["user"]["departments"]["totalCount"], 0, "memberships went with the org; the user stays");
    assert_eq!(c.data(q, json!({ "p": 1, "l": 10 })).await["orgs"]["totalCount"], 1);
    check(&s, &id(&a)).await;
}

#[tokio::test]
async fn another_pool_cannot_see_or_touch_an_org() {
    let s = TestServer::start().await;
    let a = s.admin().await;
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;
    let org = create_org(&a, "A", "a").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let ub = user(&b, "ub").await;
    for (q, vars) in [
        ("query($id: String!) { org(id: $id) { id } }", json!({ "id": org_id })),
        ("query($id: String!) { nodeById(id: $id) { id } }", json!({ "id": root })),
        ("query($id: String!) { rootNode(orgId: $id) { id } }", json!({ "id": org_id })),
        ("mutation($id: String!) { deleteOrg(id: $id) { code } }", json!({ "id": org_id })),
        ("mutation($o: String!, $p: String) { addNodeV2(orgId: $o, parentNodeId: $p, name: \"x\") { id } }", json!({ "o": org_id, "p": root })),
        ("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": root, "u": [ub] })),
    ] {
        assert_eq!(b.error(q, vars).await.0, "NOT_FOUND", "{q}");
    }
    // A's node cannot take B's user either.
    let (code, _) = a.error("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": root, "u": [ub] })).await;
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(b.data("{ orgs { totalCount } searchNodes(keyword: \"A\") { id } }", json!({})).await, json!({ "orgs": { "totalCount": 0 }, "searchNodes": [] }));
}

/// Build root → `width` children → `width` grandchildren each, a member in every grandchild.
pub async fn wide_tree(s: &TestServer, c: &Client, width: usize) -> (String, String) {
    let org = create_org(c, &format!("W{width}"), &format!("w{width}")).await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let u = user(c, &format!("member{width}")).await;
    for i in 0..width {
        let child = id(&add_node(c, &org_id, &root, &format!("c{i}"), None).await);
        for j in 0..width {
            let grandchild = id(&add_node(c, &org_id, &child, &format!("g{i}-{j}"), None).await);
            add_members(c, &grandchild, &[&u]).await;
        }
    }
    check(s, &org_id).await;
    (org_id, root)
}

/// Count the statements `run` sends, the least of three runs. The server's background tasks
/// (the delivery worker, the PostgreSQL event relay, the SQLite checkpointer) are stopped first,
/// for good, so that only requests send statements.
pub async fn statements_of<F, Fut>(s: &TestServer, run: F) -> u64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    s.stop_background().await;
    let mut best = u64::MAX;
    for _ in 0..3 {
        let before = s.state.metrics.statements();
        run().await;
        best = best.min(s.state.metrics.statements() - before);
    }
    best
}

#[tokio::test]
async fn nested_fields_cost_a_fixed_number_of_queries_whatever_the_tree_size() {
    let s = TestServer::start_with(|c| {
        c.webhooks.poll_ms = 60_000;
        c.metrics.public = true;
    })
    .await;
    let c = s.admin().await;
    let nested = "query($id: String!) { nodeById(id: $id) { childNodes { path children users { totalCount list { id } }
        childNodes { path codePath children users(includeChildrenNodes: true) { totalCount list { id } } childNodes { id } } } } }";
    let listing = "query($id: String!) { org(id: $id) { rootNode { id } nodes { id path codePath namePath children } } }";
    let mut costs = Vec::new();
    for width in [2, 5] {
        let (org_id, root) = wide_tree(&s, &c, width).await;
        let d = c.data(nested, json!({ "id": root })).await;
        let grandchildren = d["nodeById"]["childNodes"][0]["childNodes"].as_array().unwrap();
        assert_eq!(grandchildren.len(), width);
        assert_eq!(grandchildren[0]["users"]["totalCount"], 1);
        assert_eq!(grandchildren[0]["path"].as_array().unwrap().len(), 3);
        let d = c.data(listing, json!({ "id": org_id })).await;
        assert_eq!(d["org"]["nodes"].as_array().unwrap().len(), 1 + width + width * width);
        let nested_cost = statements_of(&s, || async { c.data(nested, json!({ "id": root })).await; }).await;
        let listing_cost = statements_of(&s, || async { c.data(listing, json!({ "id": org_id })).await; }).await;
        costs.push((nested_cost, listing_cost));
    }
    eprintln!("statement costs: {costs:?}");
    assert_eq!(costs[0], costs[1], "statements per query (nested, listing) must not grow with the tree: {costs:?}");
    assert!(costs[0].0 <= 12 && costs[0].1 <= 4, "{costs:?}");
    // The counters are on /metrics.
    let text = s.anonymous().get("/metrics").await.text().await.unwrap();
    assert!(text.contains("orgraph_db_statements_total"), "{text}");
}

/// `org { nodes { ... } }` answers a selection of plain fields from the org's index without
/// `Node`'s resolvers; the answer must be the one the resolvers give (an inline fragment takes
/// that path), field for field, with aliases.
#[tokio::test]
async fn listing_an_org_answers_plain_fields_as_the_resolvers_do() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let (org_id, root) = wide_tree(&s, &c, 3).await;
    let child = c.data("query($id: String!) { nodeById(id: $id) { children } }", json!({ "id": root })).await["nodeById"]["children"][1].clone();
    c.data(
        "mutation($id: String!, $di: String, $ni: String) { updateNode(id: $id, description: \"d\", descriptionI18n: $di, nameI18n: $ni, order: 7, openDepartmentId: \"open-1\", enabled: false) { id } }",
        json!({ "id": child, "di": r#"{"en-US": "D"}"#, "ni": r#"{"en-US": "N"}"# }),
    )
    .await;
    let fields = "__typename id orgId name nameI18n description descriptionI18n order code root depth leaderUserId openDepartmentId
        enabled isVirtualNode parentId createdAt updatedAt path codePath namePath children ids: path first: id";
    let plain = c.data(&format!("query($id: String!) {{ org(id: $id) {{ nodes {{ {fields} }} }} }}"), json!({ "id": org_id })).await;
    let resolved = c.data(&format!("query($id: String!) {{ org(id: $id) {{ nodes {{ ... on Node {{ {fields} }} }} }} }}"), json!({ "id": org_id })).await;
    let nodes = plain["org"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 1 + 3 + 9);
    assert_eq!(plain, resolved);
    let updated = nodes.iter().find(|n| n["id"] == child).expect("the updated node");
    assert_eq!((updated["order"].as_i64(), updated["enabled"].as_bool(), updated["depth"].as_i64()), (Some(7), Some(false), Some(1)));
    assert_eq!(updated["path"], json!([root, child]));
    assert_eq!(updated["children"].as_array().map(Vec::len), Some(3));
    // Fields that need a resolver (a loader, arguments) are served too, with the plain ones.
    let mixed = c.data("query($id: String!) { org(id: $id) { nodes { id path leaderUserIds users { totalCount } } } }", json!({ "id": org_id })).await;
    assert_eq!(mixed["org"]["nodes"].as_array().map(Vec::len), Some(13));
}

#[tokio::test]
async fn lookups_and_the_older_add_node_answer_errors_clearly() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "A", "a").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let other = create_org(&c, "B", "b").await;
    // addNode (v1) answers with the whole org.
    let d = c.data("mutation($o: String!, $p: String) { addNode(orgId: $o, parentNodeId: $p, name: \"Old style\", code: \"old\") { id nodes { name } } }",
        json!({ "o": org_id, "p": root })).await;
    assert_eq!(d["addNode"]["nodes"].as_array().unwrap().len(), 2);
    for (q, vars, want) in [
        ("query($n: String!) { childrenNodes(nodeId: $n) { id } }", json!({ "n": "missing" }), "NOT_FOUND"),
        ("query($o: String!) { rootNode(orgId: $o) { id } }", json!({ "o": "missing" }), "NOT_FOUND"),
        ("query($o: String!, $n: String!) { isRootNode(orgId: $o, nodeId: $n) }", json!({ "o": org_id, "n": id(&other["rootNode"]) }), "INVALID_INPUT"),
        ("query($o: String!) { nodeByCode(orgId: $o, code: \"nope\") { id } }", json!({ "o": org_id }), "NOT_FOUND"),
        ("{ searchNodes(keyword: \"  \") { id } }", json!({}), "INVALID_INPUT"),
        ("mutation($o: String!, $n: String!) { deleteNode(orgId: $o, nodeId: $n) { code } }", json!({ "o": org_id, "n": root }), "INVALID_INPUT"),
        ("mutation($o: String!, $n: String!) { deleteNode(orgId: $o, nodeId: $n) { code } }", json!({ "o": org_id, "n": id(&other["rootNode"]) }), "INVALID_INPUT"),
        ("mutation { addMember(userIds: [\"x\"]) { id } }", json!({}), "INVALID_INPUT"),
        ("mutation($n: String) { addMember(nodeId: $n, userIds: []) { id } }", json!({ "n": root }), "INVALID_INPUT"),
        ("mutation($u: String!) { setMainDepartment(userId: $u, departmentId: null) { code } }", json!({ "u": "ghost" }), "NOT_FOUND"),
        ("mutation($s: String!) { moveMembers(userIds: [\"x\"], sourceNodeId: $s, targetNodeId: $s) { code } }", json!({ "s": root }), "INVALID_INPUT"),
        ("query($id: String!) { nodeById(id: $id) { users(limit: 201) { totalCount } } }", json!({ "id": root }), "INVALID_INPUT"),
    ] {
        let (code, msg) = c.error(q, vars).await;
        assert_eq!(code, want, "{q}: {msg}");
    }
    check(&s, &org_id).await;
}

/// Whole-org listings of plain fields are kept serialized per tree revision: every kind of change
/// must show in the next listing, on both GraphQL endpoints, equal to what the resolvers answer
/// (a fragment takes the general path), and a name that looks like the placeholder stays a name.
#[tokio::test]
async fn cached_org_listings_follow_every_change() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme").await;
    let org_id = id(&org);
    let root_id = id(&org["rootNode"]);
    let dev = id(&add_node(&c, &org_id, &root_id, "Dev", Some("dev")).await);
    let ops = id(&add_node(&c, &org_id, &root_id, "Ops", Some("ops")).await);
    let backend = id(&add_node(&c, &org_id, &dev, "Backend", Some("backend")).await);
    let fields = "id name code depth parentId path children namePath";
    let plain = format!("query($id: String!) {{ org(id: $id) {{ nodes {{ {fields} }} again: nodes {{ id }} }} }}");
    let general = format!("query($id: String!) {{ org(id: $id) {{ nodes {{ ...F }} again: nodes {{ ... on Node {{ id }} }} }} }} fragment F on Node {{ {fields} }}");
    let listing = async |expected_len: usize| {
        let v2 = c.data(&plain, json!({ "id": org_id })).await["org"].clone();
        let v2_again = c.data(&plain, json!({ "id": org_id })).await["org"].clone();
        let spec = c.gql_at("/graphql", &plain, json!({ "id": org_id })).await;
        let reference = c.data(&general, json!({ "id": org_id })).await["org"].clone();
        assert_eq!(v2, reference, "cached listing = resolvers' answer");
        assert_eq!(v2_again, reference);
        assert_eq!(spec["data"]["org"], reference, "the spec endpoint splices too: {spec}");
        assert_eq!(v2["nodes"].as_array().map(Vec::len), Some(expected_len));
        v2["nodes"].as_array().cloned().unwrap_or_default()
    };
    let find = |nodes: &[Value], node: &str| nodes.iter().find(|n| n["id"] == node).cloned().unwrap_or(Value::Null);
    listing(4).await;
    // Each listing weighs 1,000 in the complexity: aliases cannot make one request list an org
    // thousands of times.
    let aliased = format!("query($id: String!) {{ org(id: $id) {{ {} }} }}", (0..6).map(|i| format!("n{i}: nodes {{ id }}")).collect::<Vec<_>>().join(" "));
    let (code, msg) = c.error(&aliased, json!({ "id": org_id })).await;
    assert_eq!(code, "QUERY_TOO_COMPLEX");
    assert!(msg.to_lowercase().contains("complex"), "{msg}");

    c.data("mutation($id: String!) { updateNode(id: $id, name: \"Development\") { id } }", json!({ "id": dev })).await;
    let nodes = listing(4).await;
    assert_eq!(find(&nodes, &dev)["name"], "Development");
    assert_eq!(find(&nodes, &backend)["namePath"], json!(["Acme", "Development", "Backend"]));

    let mv = "mutation($o: String!, $n: String!, $t: String!) { moveNode(orgId: $o, nodeId: $n, targetParentId: $t) { id } }";
    c.data(mv, json!({ "o": org_id, "n": backend, "t": ops })).await;
    let nodes = listing(4).await;
    assert_eq!(find(&nodes, &backend)["path"], json!([root_id, ops, backend]));
    assert_eq!(find(&nodes, &dev)["children"], json!([]));

    // Names refuse control characters; this is the placeholder's text as JSON escapes it.
    let forged = format!("\\u0001orgraph-raw:{}:0", "0".repeat(32));
    let qa = id(&add_node(&c, &org_id, &ops, &forged, Some("qa")).await);
    let nodes = listing(5).await;
    assert_eq!(find(&nodes, &qa)["name"], forged.as_str(), "a placeholder-like name is answered as it is");

    // Members, so that deletions have counts to change.
    let ann = create(&c, json!({ "username": "ann" })).await;
    let bob = create(&c, json!({ "username": "bob" })).await;
    let add = "mutation($n: String!, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }";
    c.data(add, json!({ "n": qa, "u": [id(&ann), id(&bob)] })).await;
    c.data(add, json!({ "n": dev, "u": [id(&bob)] })).await;
    c.data("mutation($o: String!, $n: String!) { deleteNode(orgId: $o, nodeId: $n) { code } }", json!({ "o": org_id, "n": ops })).await;
    let nodes = listing(2).await;
    assert_eq!(find(&nodes, &root_id)["children"], json!([dev]));
    c.data("mutation($id: String!) { deleteUser(id: $id) { code } }", json!({ "id": id(&bob) })).await;
    check(&s, &org_id).await;
}

/// A member page reads only the user columns its fields need (`views::user::columns_of`): every
/// field of `User`, asked alone, shows what reading the whole user shows — on a node's page, a
/// subtree's page and a page in a whole-org listing; fragments and aliases included.
#[tokio::test]
async fn member_pages_show_each_user_field_as_the_whole_row_does() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Columns", "columns").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let u = create(&c, json!({
        "username": "carol", "email": "carol@example.com", "phone": "+86 188 0000 0009", "phoneCountryCode": "+86",
        "nickname": "Caz", "name": "Carol", "givenName": "Carol", "familyName": "Danvers", "middleName": "S",
        "gender": "F", "company": "Marvel", "lastIP": "10.0.0.9", "loginsCount": 7, "city": "Boston",
        "website": "https://example.com", "birthdate": "1970-01-01", "locale": "en", "country": "US",
        "signedUp": "2020-10-15T17:55:37+08:00", "registerSource": ["import:manual"], "externalId": "ext-9",
        "status": "Suspended", "customData": { "rank": "captain", "age": 40 },
    })).await;
    add_members(&c, &root, &[u["id"].as_str().unwrap()]).await;

    // Every field of `User`, from the schema itself: a field added later is covered too.
    let t = c.data(r#"{ __type(name: "User") { fields { name } } }"#, json!({})).await;
    let names: Vec<String> = t["__type"]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()).collect();
    assert!(names.len() > 40, "{names:?}");
    let objects = [
        ("identities", "identities { provider userIdInIdp openid isSocial connectionId userPoolId }"),
        ("customData", "customData { key value dataType label }"),
        ("departments", "departments { totalCount list { department { id } isMainDepartment } }"),
        ("authorizedResources", "authorizedResources { totalCount }"),
        ("departmentHistory", "departmentHistory { nodes { eventName changes { field after } } }"),
    ];
    for name in &names {
        let selection = objects.iter().find(|(n, _)| n == name).map_or(name.as_str(), |(_, s)| *s);
        let whole = c.data(&format!("query($id: String) {{ user(id: $id) {{ {selection} }} }}"), json!({ "id": u["id"] })).await;
        let whole = &whole["user"][name.as_str()];
        for include in [false, true] {
            let q = format!("query($id: String!, $i: Boolean) {{ nodeById(id: $id) {{ users(includeChildrenNodes: $i) {{ list {{ {selection} }} }} }} }}");
            let page = c.data(&q, json!({ "id": root, "i": include })).await;
            assert_eq!(&page["nodeById"]["users"]["list"][0][name.as_str()], whole, "field {name} (subtree: {include})");
        }
    }

    let whole = c.data("query($id: String) { user(id: $id) { email city loginsCount } }", json!({ "id": u["id"] })).await["user"].clone();
    let q = "query($id: String!) { nodeById(id: $id) { users { list { ...F e: email } } } } fragment F on User { city ... on User { loginsCount } }";
    let got = c.data(q, json!({ "id": root })).await["nodeById"]["users"]["list"][0].clone();
    assert_eq!(got, json!({ "city": whole["city"], "loginsCount": whole["loginsCount"], "e": whole["email"] }));
    let q = "query($id: String!) { org(id: $id) { nodes { users { list { email city } } } } }";
    let got = c.data(q, json!({ "id": org_id })).await["org"]["nodes"][0]["users"]["list"][0].clone();
    assert_eq!(got, json!({ "email": whole["email"], "city": whole["city"] }), "a page in a whole-org listing");
}

/// `orgs { list { nodes } }` lists every org of a page, whatever its size: one page may list at
/// most `max_listed_nodes` nodes in all, and a larger one is refused before any is listed.
#[tokio::test]
async fn one_page_of_orgs_lists_a_bounded_number_of_nodes() {
    let s = TestServer::start_with(|c| c.limits.max_listed_nodes = 3).await;
    let c = s.admin().await;
    for code in ["a", "b"] {
        let org = create_org(&c, code, code).await;
        add_node(&c, &id(&org), &id(&org["rootNode"]), "child", None).await;
    }
    let q = "query($l: Int) { orgs(limit: $l) { totalCount list { id nodes { id } } } }";
    let (code, message) = c.error(q, json!({ "l": 10 })).await;
    assert_eq!(code, "INVALID_INPUT", "{message}");
    assert!(message.contains("4 nodes") && message.contains("fewer orgs per page"), "{message}");
    let one = c.data(q, json!({ "l": 1 })).await;
    assert_eq!(one["orgs"]["list"][0]["nodes"].as_array().map(Vec::len), Some(2));
    let ids_only = c.data("{ orgs { list { id } } }", json!({})).await;
    assert_eq!(ids_only["orgs"]["list"].as_array().map(Vec::len), Some(2), "without nodes, no bound");
}

/// The listing cache is keyed on `org.tree_revision`, which a trigger bumps when a node changes
/// in a column a listing shows. Its columns are the entity's (all but the counters), made again
/// at start-up when they differ, so a column added later never serves stale listings.
#[tokio::test]
async fn the_tree_revision_trigger_watches_every_node_column_but_the_counters() {
    use orgraph::storage::tree::revision_trigger::{listed_columns, trigger_columns};
    use sea_orm::ConnectionTrait;
    let s = TestServer::start().await;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let want = sorted(listed_columns().into_iter().map(str::to_string).collect());
    assert_eq!(sorted(trigger_columns(&s.state.db).await.unwrap().expect("the trigger exists")), want);

    let c = s.admin().await;
    let org = create_org(&c, "A", "a").await;
    let node = add_node(&c, &id(&org), org["rootNode"]["id"].as_str().unwrap(), "Dev", Some("dev")).await;
    let listing = async || c.data("query($o: String!) { org(id: $o) { nodes { id customData } } }", json!({ "o": id(&org) })).await["org"]["nodes"][1]["customData"].clone();
    let set = async |v: Value| {
        c.data("mutation($n: String!, $v: JSON) { updateNode(id: $n, customData: $v) { id } }", json!({ "n": id(&node), "v": v })).await;
    };
    assert_eq!(listing().await, json!({}));
    set(json!({ "a": 1 })).await;
    assert_eq!(listing().await, json!({ "a": 1 }), "a change is listed at once");

    // A trigger made before a column existed (as migration 10 made it, naming its columns then).
    let stale = match s.state.db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => [
            "DROP TRIGGER node_tree_revision_update",
            "CREATE TRIGGER node_tree_revision_update AFTER UPDATE OF name ON node BEGIN UPDATE org SET tree_revision = tree_revision + 1 WHERE id = NEW.org_id; END",
        ],
        _ => [
            "DROP TRIGGER node_tree_revision_update ON node",
            "CREATE CONSTRAINT TRIGGER node_tree_revision_update AFTER UPDATE OF name ON node DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION orgraph_node_tree_revision()",
        ],
    };
    let txn = sea_orm::TransactionTrait::begin(&s.state.db).await.unwrap();
    for sql in stale {
        txn.execute_unprepared(sql).await.unwrap();
    }
    txn.commit().await.unwrap();
    set(json!({ "a": 2 })).await;
    assert_eq!(listing().await, json!({ "a": 1 }), "the stale trigger serves a stale listing");
    // The next start makes it again from the entity's columns.
    let again = s.second().await;
    assert_eq!(sorted(trigger_columns(&again.state.db).await.unwrap().unwrap()), want);
    set(json!({ "a": 3 })).await;
    assert_eq!(listing().await, json!({ "a": 3 }));
}
