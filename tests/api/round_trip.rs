//! A company moved to an empty database reads back as it was: every field of every department,
//! user, membership, leader list and main department, with the same ids, through the CLI
//! (`orgraph export` / `orgraph import`, JSON and CSV) and through the v2 export/import routes.
//! What "every field" means is read from the schema (introspection), so a field added later is
//! covered without touching this test.

use serde_json::{Value, json};

use crate::{
    harness::{Client, TestServer},
    orgs::id,
    tools::{ok, orgraph},
    users::create,
};

async fn v3(c: &Client, path: &str, body: Value) -> Value {
    let res: Value = c.post_json(&format!("/api/v3/{path}"), body.clone()).await.json().await.expect("JSON");
    assert_eq!(res["statusCode"], 200, "{path} {body}: {res}");
    res["data"].clone()
}

/// Two organizations that set every settable department field through GraphQL and v3, users
/// with profile and custom fields, memberships with leader flags, distinct join times and main
/// departments, and ordered leader lists.
async fn company(c: &Client) {
    let i18n = json!({ "name": { "en-US": { "enabled": true, "value": "Acme Inc" } } });
    let org = c
        .data(
            r#"mutation($i18n: JSON, $custom: JSON) { createOrg(name: "Acme", code: "acme", description: "the company",
                nameI18n: "{\"en-US\":\"Acme\"}", descriptionI18n: "{\"en-US\":\"The company\"}", order: 3,
                openDepartmentId: "HR-0", i18n: $i18n, customData: $custom, tenantId: "tenant-1") { id rootNode { id } } }"#,
            json!({ "i18n": i18n, "custom": { "region": "eu", "size": 40 } }),
        )
        .await["createOrg"]
        .clone();
    let (org_id, root) = (id(&org), org["rootNode"]["id"].as_str().unwrap().to_string());
    let dev = c
        .data(
            r#"mutation($o: String!, $p: String) { addNodeV2(orgId: $o, parentNodeId: $p, name: "Dev", code: "dev",
                description: "builders", nameI18n: "{\"en-US\":\"Dev\"}", order: 7, openDepartmentId: "HR-1",
                customData: { floor: 2 }) { id } }"#,
            json!({ "o": org_id, "p": root }),
        )
        .await;
    let dev = id(&dev["addNodeV2"]);
    let web = c
        .data(
            r#"mutation($o: String!, $p: String) { addNodeV2(orgId: $o, parentNodeId: $p, name: "Web", code: "web",
                enabled: false, descriptionI18n: "{\"fr-FR\":\"Toile\"}") { id } }"#,
            json!({ "o": org_id, "p": dev }),
        )
        .await;
    let web = id(&web["addNodeV2"]);
    let guild = v3(c, "create-department", json!({
        "organizationCode": "acme", "parentDepartmentId": dev, "name": "Guild", "code": "guild",
        "openDepartmentId": "HR-2", "isVirtualNode": true,
        "i18n": { "name": { "zh-CN": { "enabled": true, "value": "公会" } } }, "customData": { "budget": 12, "tags": ["a", "b"] },
    })).await;
    let guild = guild["departmentId"].as_str().unwrap().to_string();
    v3(c, "update-department-status", json!({ "departmentId": guild, "status": false })).await;
    let beta = v3(c, "create-organization", json!({ "organizationName": "Beta", "organizationCode": "beta", "description": "second", "tenantId": "tenant-2" })).await;
    let beta = beta["departmentId"].as_str().unwrap().to_string();

    let mut users = Vec::new();
    for (i, name) in ["ann", "bob", "cid", "dee", "eve"].iter().enumerate() {
        let info = json!({
            "username": name, "email": format!("{name}@example.com"), "phone": format!("+33 1 00 00 00 0{i}"),
            "name": format!("{name} Example"), "city": "Lyon", "company": "Acme", "gender": if i % 2 == 0 { "F" } else { "M" },
            "externalId": format!("ext-{i}"), "customData": { "rank": i, "team": "core" },
        });
        users.push(id(&create(c, info).await));
    }
    let add = async |node: &str, who: &[&String], leader: bool| {
        c.data("mutation($n: String, $u: [String!]!, $l: Boolean) { addMember(nodeId: $n, userIds: $u, isLeader: $l) { id } }",
            json!({ "n": node, "u": who, "l": leader })).await;
    };
    add(&dev, &[&users[0], &users[1]], false).await;
    add(&web, &[&users[1], &users[2]], true).await;
    add(&root, &[&users[4]], false).await;
    v3(c, "add-department-members", json!({ "organizationCode": "acme", "departmentId": guild, "userIds": [users[3], users[0]] })).await;
    add(&beta, &[&users[0], &users[3]], false).await;
    c.data("mutation($n: String!, $l: [String!]) { updateNode(id: $n, leaderUserIds: $l) { id } }", json!({ "n": dev, "l": [users[1], users[0]] })).await;
    c.data("mutation($n: String!, $l: [String!]) { updateNode(id: $n, leaderUserIds: $l) { id } }", json!({ "n": beta, "l": [users[3]] })).await;
    for (user, dep) in [(&users[1], &web), (&users[0], &beta), (&users[3], &guild)] {
        c.data("mutation($u: String!, $d: String) { setMainDepartment(userId: $u, departmentId: $d) { code } }", json!({ "u": user, "d": dep })).await;
    }
}

/// The fields of `type_name` that take no argument: scalars as they are, objects with their own
/// scalar fields (one level).
async fn selection(c: &Client, type_name: &str, nested: bool) -> String {
    let q = "query($t: String!) { __type(name: $t) { fields { name args { name } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }";
    let d = c.data(q, json!({ "t": type_name })).await;
    let mut out = Vec::new();
    for f in d["__type"]["fields"].as_array().unwrap() {
        if !f["args"].as_array().unwrap().is_empty() {
            continue;
        }
        let mut t = &f["type"];
        while t["ofType"].is_object() {
            t = &t["ofType"];
        }
        let name = f["name"].as_str().unwrap();
        match t["kind"].as_str().unwrap() {
            "SCALAR" | "ENUM" => out.push(name.to_string()),
            "OBJECT" if nested => out.push(format!("{name} {{ {} }}", Box::pin(selection(c, t["name"].as_str().unwrap(), false)).await)),
            _ => {}
        }
    }
    out.join(" ")
}

/// Everything the API answers about the pool's company, in a stable order.
async fn view(c: &Client) -> Value {
    let node = selection(c, "Node", false).await;
    let user = selection(c, "User", true).await;
    let orgs = c.data("{ orgs(limit: 100, sortBy: CREATEDAT_ASC) { totalCount list { id tenantId createdAt updatedAt rootNode { id code } } } }", json!({})).await;
    let mut trees = Vec::new();
    for org in orgs["orgs"]["list"].as_array().unwrap() {
        let q = format!(
            "query($id: String!) {{ org(id: $id) {{ nodes {{ {node}
                members: users(limit: 50, sortBy: CREATEDAT_ASC) {{ totalCount list {{ id }} }}
                subtree: users(limit: 50, includeChildrenNodes: true) {{ totalCount list {{ id }} }} }} }} }}"
        );
        let nodes = c.data(&q, json!({ "id": org["id"] })).await["org"]["nodes"].clone();
        let mut v3_departments = Vec::new();
        for n in nodes.as_array().unwrap() {
            let path = format!(
                "/api/v3/get-department?organizationCode={}&departmentId={}&withCustomData=true",
                org["rootNode"]["code"].as_str().unwrap(),
                n["id"].as_str().unwrap()
            );
            let res: Value = c.get(&path).await.json().await.unwrap();
            assert_eq!(res["statusCode"], 200, "{path}: {res}");
            v3_departments.push(res["data"].clone());
        }
        let v3_members: Value = c
            .get(&format!("/api/v3/list-department-members?organizationCode={}&departmentId=root&includeChildrenDepartments=true&sortBy=JoinDepartmentAt&orderBy=Asc&limit=50", org["rootNode"]["code"].as_str().unwrap()))
            .await
            .json()
            .await
            .unwrap();
        trees.push(json!({ "org": org, "nodes": nodes, "v3": v3_departments, "v3Members": v3_members["data"] }));
    }
    let q = format!(
        "{{ users(limit: 100, sortBy: CREATEDAT_ASC) {{ totalCount list {{ {user}
            departments {{ totalCount list {{ department {{ id }} isMainDepartment isLeader joinedAt }} }} }} }} }}"
    );
    let users = c.data(&q, json!({})).await["users"].clone();
    json!({ "orgs": trees, "users": users })
}

/// A second server on an empty database, with the first's pool (id and secret): the target of
/// a server move.
async fn empty_like(s: &TestServer) -> TestServer {
    let pool = s.pool_id.clone();
    TestServer::start_with(move |c| c.bootstrap_pool_id = Some(pool)).await
}

fn assert_same(what: &str, got: &Value, want: &Value) {
    if got != want {
        panic!("{what}: the imported company differs\n--- before\n{}\n--- after\n{}", serde_json::to_string_pretty(want).unwrap(), serde_json::to_string_pretty(got).unwrap());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_company_moved_with_the_cli_reads_back_as_it_was_in_json_and_csv() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    company(&c).await;
    let before = view(&c).await;
    assert_eq!(before["orgs"].as_array().unwrap().len(), 2);
    assert_eq!(before["users"]["totalCount"], 5);
    let dir = tempfile::tempdir().unwrap();
    for (format, path) in [("JSON", dir.path().join("company.json")), ("CSV", dir.path().join("company"))] {
        let path = path.to_str().unwrap();
        ok(&s, &["export", "--pool", &s.pool_id, path]).await;
        let target = empty_like(&s).await;
        let stderr = ok(&target, &["import", "--pool", &s.pool_id, path]).await;
        assert!(stderr.contains("created 5 departments, 5 users, 9 memberships"), "{format}: {stderr}");
        assert_same(format, &view(&target.admin().await).await, &before);
        // Run again: everything is there already, nothing changes.
        let stderr = ok(&target, &["import", "--pool", &s.pool_id, path]).await;
        assert!(stderr.contains("created 0 departments, 0 users, 0 memberships"), "{format}: {stderr}");
        assert_same(format, &view(&target.admin().await).await, &before);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_company_moved_with_the_v2_routes_reads_back_as_it_was() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    company(&c).await;
    let before = view(&c).await;
    let exported: Value = c.get("/api/v2/orgs/export").await.json().await.unwrap();
    assert_eq!(exported["code"], 200, "{exported}");
    let target = empty_like(&s).await;
    let t = target.admin().await;
    let res: Value = t.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": exported["data"] })).await.json().await.unwrap();
    assert_eq!(res["code"], 200, "{res}");
    assert_same("v2", &view(&t).await, &before);
    // The same file again: refused whole, nothing changes.
    let again: Value = t.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": exported["data"] })).await.json().await.unwrap();
    assert_ne!(again["code"], 200, "{again}");
    assert_same("v2 again", &view(&t).await, &before);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_of_another_pool_is_refused_and_new_ids_make_a_copy() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    company(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("company.json");
    let file = file.to_str().unwrap();
    ok(&s, &["export", "--pool", &s.pool_id, file]).await;
    // Another pool of the same database: the ids are the first pool's.
    let (other, secret) = s.new_pool("copy").await;
    let out = orgraph(&s, &["import", "--pool", &other, file]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("is already the id of another pool's user") && stderr.contains("nothing was written"), "{stderr}");
    let copy = s.client_for(&other, &secret).await;
    assert_eq!(copy.data("{ users { totalCount } }", json!({})).await["users"]["totalCount"], 0);
    // As a template: a copy with new ids.
    ok(&s, &["import", "--pool", &other, "--new-ids", file]).await;
    let (original, copied) = (view(&c).await, view(&copy).await);
    assert_eq!(copied["users"]["totalCount"], 5);
    let ids = |v: &Value| v["users"]["list"].as_array().unwrap().iter().map(id).collect::<Vec<_>>();
    assert!(ids(&original).iter().all(|i| !ids(&copied).contains(i)), "new ids");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_root_in_an_organization_of_the_pool_is_a_conflict_and_changes_nothing() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    company(&c).await;
    let before = view(&c).await;
    let exported: Value = c.get("/api/v2/orgs/export").await.json().await.unwrap();
    // The first organization again, its root under a new id: the organization's id is taken.
    let mut tree = exported["data"][0].clone();
    tree["id"] = json!("another-root");
    tree["children"] = json!([]);
    tree["members"] = json!([]);
    tree["code"] = json!("another-code");
    let res: Value = c.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": tree })).await.json().await.unwrap();
    assert_eq!(res["code"], 409, "{res}");
    assert!(res["message"].as_str().unwrap().contains("already exists in this pool"), "{res}");
    assert_same("after the conflict", &view(&c).await, &before);
}

#[tokio::test]
async fn flat_custom_data_never_hides_a_departments_own_fields() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    v3(&c, "create-organization", json!({ "organizationName": "Acme", "organizationCode": "acme" })).await;
    let d = v3(&c, "create-department", json!({
        "organizationCode": "acme", "parentDepartmentId": "root", "name": "Dev",
        "customData": { "floor": 2, "name": "not the name", "departmentId": "not the id" },
    })).await;
    let id = d["departmentId"].as_str().unwrap();
    let res: Value = c.get(&format!("/api/v3/get-department?organizationCode=acme&departmentId={id}&flatCustomData=true")).await.json().await.unwrap();
    let d = &res["data"];
    assert_eq!(d["floor"], 2, "{d}");
    assert_eq!(d["name"], "Dev", "{d}");
    assert_eq!(d["departmentId"], id, "{d}");
}
