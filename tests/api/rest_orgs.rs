//! The org REST routes: import, export, list, count, node members (v2) and the v3 member list.

use serde_json::{Value, json};

use crate::{
    harness::{TestServer, v2_status},
    orgs::{add_node, create_org, id},
    users::create,
};

fn tree() -> Value {
    json!({
        "name": "Example Tech", "code": "example",
        "children": [
            { "code": "operation", "name": "Operating", "description": "business" },
            { "code": "dev", "name": "Research", "description": "research", "order": 9,
              "nameI18n": { "en-US": "Research" },
              "children": [ { "code": "backend", "name": "Backend" } ] }
        ]
    })
}

#[tokio::test]
async fn import_creates_the_whole_tree_in_one_go() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let res = c.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": tree() })).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], 200);
    let root = &body["data"];
    assert_eq!(root["name"], "Example Tech");
    assert_eq!(root["root"], true);
    assert_eq!(root["depth"], 0);
    let kids = root["children"].as_array().unwrap();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[0]["code"], "dev", "larger order first");
    assert_eq!(kids[0]["nameI18n"], "{\"en-US\":\"Research\"}");
    assert_eq!(kids[0]["children"][0]["code"], "backend");
    assert_eq!(kids[0]["children"][0]["depth"], 2);
    let org_id = root["orgId"].as_str().unwrap().to_string();
    assert!(s.state.orgs.check_invariants(&org_id).await.unwrap().is_empty());
    // The imported org is an ordinary org.
    let d = c.data("query($o: String!) { nodeByCode(orgId: $o, code: \"backend\") { namePath } }", json!({ "o": org_id })).await;
    assert_eq!(d["nodeByCode"]["namePath"], json!(["Example Tech", "Research", "Backend"]));
}

#[tokio::test]
async fn a_bad_import_imports_nothing_and_names_the_node() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let mut missing_name = tree();
    missing_name["children"][1]["children"][0] = json!({ "code": "backend" });
    let mut dup = tree();
    dup["children"][1]["children"][0]["code"] = json!("operation");
    let mut bad_children = tree();
    bad_children["children"][0]["children"] = json!("nope");
    for (file, status, needle) in [
        (missing_name, 400, "file.children[1].children[0] (code \"backend\"): name is missing"),
        (dup, 400, "file.children[1].children[0] (code \"operation\")"),
        (bad_children, 400, "file.children[0]"),
        (json!([1, 2]), 400, "must be an object"),
    ] {
        let res = c.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": file })).await;
        assert_eq!(res.status(), 200, "v2 errors travel in the body");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["statusCode"], status, "{body}");
        assert_eq!(body["code"], status, "no Authing code for these: the HTTP status stands in");
        assert!(body["message"].as_str().unwrap().contains(needle), "{body}");
        assert!(body["errorCode"].is_string());
    }
    // An org code already taken fails the whole import too.
    create_org(&c, "Existing", "example").await;
    let res = c.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": tree() })).await;
    assert_eq!(v2_status(res).await, 409);
    let d = c.data("{ orgs { totalCount } }", json!({})).await;
    assert_eq!(d["orgs"]["totalCount"], 1, "nothing was imported");
    let res = c.post_json("/api/v2/orgs/import", json!({ "filetype": "csv", "file": "a,b" })).await;
    assert_eq!(v2_status(res).await, 400);
    // Without a token.
    let res = s.anonymous().post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": tree() })).await;
    assert_eq!(v2_status(res).await, 401);
}

#[tokio::test]
async fn export_list_count_and_node_members() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let dev = id(&add_node(&c, &org_id, &root, "Dev", Some("dev")).await);
    let alice = id(&create(&c, json!({ "username": "alice" })).await);
    let bob = id(&create(&c, json!({ "username": "bob" })).await);
    c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": dev, "u": [alice, bob] })).await;
    c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": root, "u": [alice] })).await;
    create_org(&c, "Other", "other").await;

    let one: Value = c.get(&format!("/api/v2/orgs/export?org_id={org_id}")).await.json().await.unwrap();
    assert_eq!(one["code"], 200);
    let tree = &one["data"];
    assert_eq!(tree["id"], root.as_str());
    assert_eq!(tree["members"].as_array().unwrap().len(), 1);
    assert_eq!(tree["members"][0]["username"], "alice");
    assert_eq!(tree["children"][0]["name"], "Dev");
    assert_eq!(tree["children"][0]["depth"], 1);
    assert_eq!(tree["children"][0]["members"].as_array().unwrap().len(), 2);
    let all: Value = c.get("/api/v2/orgs/export").await.json().await.unwrap();
    assert_eq!(all["data"].as_array().unwrap().len(), 2);

    let count: Value = c.get("/api/v2/orgs/count").await.json().await.unwrap();
    assert_eq!(count["data"]["count"], 2);
    let list: Value = c.get("/api/v2/orgs?page=1&limit=1").await.json().await.unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["name"], "Other");
    let bad: Value = c.get("/api/v2/orgs?page=0").await.json().await.unwrap();
    assert_eq!((bad["code"].as_i64(), bad["errorCode"].as_str()), (Some(400), Some("INVALID_INPUT")), "{bad}");

    // Seed 003: the nodeById query's data in the v2 envelope.
    let res: Value = c.get(&format!("/api/v2/orgs/nodes/{root}/members?page=1&limit=10&includeChildrenNodes=true&sortBy=CREATEDAT_ASC")).await.json().await.unwrap();
    assert_eq!(res["code"], 200);
    let users = &res["data"]["nodeById"]["users"];
    assert_eq!(users["totalCount"], 2);
    assert_eq!(users["list"][0]["username"], "alice");
    assert_eq!(res["data"]["nodeById"]["children"], json!([dev]));
    let res: Value = c.get(&format!("/api/v2/orgs/nodes/{root}/members")).await.json().await.unwrap();
    assert_eq!(res["data"]["nodeById"]["users"]["totalCount"], 1, "includeChildrenNodes defaults to false");
    assert_eq!(v2_status(c.get("/api/v2/orgs/nodes/nope/members").await).await, 404);
    assert_eq!(v2_status(c.get(&format!("/api/v2/orgs/nodes/{root}/members?limit=0")).await).await, 400);
}

#[tokio::test]
async fn v3_list_department_members() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let dev = id(&add_node(&c, &org_id, &root, "Dev", Some("dev")).await);
    let alice = id(&create(&c, json!({ "username": "alice", "customData": { "age": 3 } })).await);
    let bob = id(&create(&c, json!({ "username": "bob" })).await);
    c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": dev, "u": [alice] })).await;
    c.data("mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": dev, "u": [bob] })).await;

    let url = "/api/v3/list-department-members?organizationCode=acme&departmentId=root&includeChildrenDepartments=True&withCustomData=true&withDepartmentIds=true";
    let body: Value = c.get(url).await.json().await.unwrap();
    assert_eq!(body["statusCode"], 200, "{body}");
    assert_eq!(body["data"]["totalCount"], 2);
    // Default order: JoinDepartmentAt, Desc.
    assert_eq!(body["data"]["list"][0]["userId"], bob.as_str());
    assert_eq!(body["data"]["list"][1]["customData"], json!({ "age": 3 }));
    assert_eq!(body["data"]["list"][1]["departmentIds"], json!([dev]));
    let body: Value = c.get("/api/v3/list-department-members?organizationCode=acme&departmentId=dev&departmentIdType=code&orderBy=Asc").await.json().await.unwrap();
    assert_eq!(body["data"]["list"][0]["userId"], alice.as_str());
    assert!(body["data"]["list"][0].get("customData").is_none_or(Value::is_null));
    let body: Value = c.get("/api/v3/list-department-members?organizationCode=acme&departmentId=root").await.json().await.unwrap();
    assert_eq!(body["data"]["totalCount"], 0, "direct members only by default");
    for (q, status) in [("organizationCode=nope&departmentId=root", 404), ("organizationCode=acme&departmentId=root&limit=51", 400),
                        ("organizationCode=acme&departmentId=root&sortBy=Name", 400), ("departmentId=root", 400)] {
        assert_eq!(c.get(&format!("/api/v3/list-department-members?{q}")).await.status(), status, "{q}");
    }
    // The same through GraphQL.
    let d = c.data("{ listDepartmentMembers(organizationCode: \"acme\", departmentId: \"dev\", departmentIdType: \"code\", sortBy: CreatedAt, orderBy: Asc) { totalCount list { userId username } } }", json!({})).await;
    assert_eq!(d["listDepartmentMembers"]["list"][0]["username"], "alice");
}

#[tokio::test]
async fn imports_have_their_own_body_limit() {
    let s = TestServer::start_with(|c| {
        c.limits.max_body_bytes = 4096;
        c.limits.max_import_bytes = 1 << 20;
    })
    .await;
    let c = s.admin().await;
    let children: Vec<Value> = (0..500).map(|i| json!({ "name": format!("Department number {i}"), "code": format!("d{i}") })).collect();
    let file = json!({ "name": "Big", "code": "big", "children": children });
    assert!(file.to_string().len() > 4096);
    let res = c.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": file })).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["children"].as_array().unwrap().len(), 500);
    let huge = json!({ "name": "x".repeat(2 << 20) });
    let res = c.post_json("/api/v2/orgs/import", json!({ "filetype": "json", "file": huge })).await;
    assert_eq!(res.status(), 413);
}
