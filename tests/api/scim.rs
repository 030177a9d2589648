//! SCIM 2.0 at `/scim/v2`: PyPI scim2-tester's whole check suite against a live orgraph, a
//! provisioning run with PyPI scim2-client as Okta and Entra ID do it (orgraph's GraphQL checked
//! after every step), the wire shapes those two send, and bad input. Python >= 3.11 with venv must
//! be there; the packages of `tests/scim/requirements.txt` are installed once into
//! `target/scim-py`.

use std::{path::PathBuf, process::Command, time::Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::harness::{Client, TestServer};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Checks scim2-tester 0.5.2 runs against orgraph's published schemas: 101 pass and 2 are skipped
/// (the research mock, publishing fewer attributes, ran 83).
const TESTER_MIN_CHECKS: u64 = 103;

fn venv() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let dir = root.join("target/scim-py");
        let stamp = dir.join("installed.txt");
        let requirements = root.join("tests/scim/requirements.txt");
        let wanted = std::fs::read_to_string(&requirements).expect("tests/scim/requirements.txt");
        if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
            let status = Command::new("python3")
                .args(["-m", "venv", dir.to_str().expect("utf-8 path")])
                .status()
                .unwrap_or_else(|e| panic!("python3 (>= 3.11, with venv) is required by the SCIM tests and could not be run: {e}"));
            assert!(status.success(), "python3 -m venv failed");
            let out = Command::new(dir.join("bin/pip")).args(["install", "-q", "-r"]).arg(&requirements).output().expect("pip runs");
            assert!(out.status.success(), "pip install of tests/scim/requirements.txt failed (scim2-* need Python >= 3.11): {}", String::from_utf8_lossy(&out.stderr));
            std::fs::write(&stamp, wanted).expect("stamp");
        }
        dir
    })
    .clone()
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scim").join(name)
}

/// A new SCIM token of the client's pool, made with the GraphQL mutation.
pub async fn scim_token(c: &Client, name: &str) -> String {
    let d = c.data("mutation($n: String!) { createScimToken(name: $n) { id name token createdAt } }", json!({ "n": name })).await;
    d["createScimToken"]["token"].as_str().expect("token").to_string()
}

/// Raw HTTP on `/scim/v2` with a bearer token.
#[derive(Clone)]
struct Scim {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Scim {
    fn new(s: &TestServer, token: &str) -> Scim {
        Scim { http: reqwest::Client::new(), base: format!("{}/scim/v2", s.url), token: token.to_string() }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b.to_string());
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, headers, body)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, b) = self.send(Method::GET, path, None, &[]).await;
        (s, b)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, _, b) = self.send(Method::POST, path, Some(body), &[]).await;
        (s, b)
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, _, b) = self.send(Method::PUT, path, Some(body), &[]).await;
        (s, b)
    }

    async fn patch(&self, path: &str, ops: Value) -> (StatusCode, Value) {
        let (s, _, b) = self.send(Method::PATCH, path, Some(json!({ "schemas": [PATCH], "Operations": ops })), &[]).await;
        (s, b)
    }

    async fn delete(&self, path: &str) -> StatusCode {
        self.send(Method::DELETE, path, None, &[]).await.0
    }

    /// The ids a filtered user list answers.
    async fn user_ids(&self, filter: &str) -> Vec<String> {
        let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("filter", filter).finish();
        let (s, b) = self.get(&format!("/Users?{q}")).await;
        assert_eq!(s, 200, "{filter}: {b}");
        assert_eq!(b["totalResults"].as_u64().unwrap() as usize, b["Resources"].as_array().map_or(0, Vec::len), "{b}");
        b["Resources"].as_array().map(|a| a.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()).unwrap_or_default()
    }
}

/// A SCIM error: its status, schemas and scimType.
fn assert_scim_error(status: StatusCode, body: &Value, want_status: u16, want_type: Option<&str>) {
    assert_eq!(status.as_u16(), want_status, "{body}");
    assert_eq!(body["schemas"], json!([ERROR]), "{body}");
    assert_eq!(body["status"], want_status.to_string(), "{body}");
    assert_eq!(body["scimType"].as_str(), want_type, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
}

fn user_body(user_name: &str) -> Value {
    json!({ "schemas": [USER], "userName": user_name, "active": true })
}

#[tokio::test(flavor = "multi_thread")]
async fn scim2_tester_passes_every_check() {
    let s = TestServer::start().await;
    let token = scim_token(&s.admin().await, "scim2-tester").await;
    let venv = tokio::task::spawn_blocking(venv).await.unwrap();
    let url = format!("{}/scim/v2", s.url);
    let started = Instant::now();
    let out = tokio::process::Command::new(venv.join("bin/python"))
        .arg(script("tester.py"))
        .env("ORGRAPH_SCIM_URL", url)
        .env("ORGRAPH_SCIM_TOKEN", token)
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("JSON summary");
    eprintln!(
        "scim2-tester: {} passed, {} failed, {} skipped, {} checks in {:.1} s; skipped: {}",
        r["passed"], r["failed"], r["skipped"], r["total"], started.elapsed().as_secs_f64(), r["skips"]
    );
    assert_eq!(r["failed"], 0, "every check passes: {:#}", r["failures"]);
    assert!(r["total"].as_u64().unwrap() >= TESTER_MIN_CHECKS, "the tester ran all its checks: {r}");
    // The only checks it skips: POST /.search (server-root search, which orgraph answers 501).
    for skip in r["skips"].as_array().unwrap() {
        assert_eq!(skip["check"], "search_with_attributes", "{skip}");
    }
}

/// GraphQL's view of the pool's users, by id.
async fn graphql_users(c: &Client) -> std::collections::HashMap<String, Value> {
    let d = c.data(
        "{ users(limit: 200, sortBy: CREATEDAT_ASC) { totalCount list { id username email status name givenName familyName externalId customData { key value } } } }",
        json!({}),
    )
    .await;
    d["users"]["list"].as_array().unwrap().iter().map(|u| (u["id"].as_str().unwrap().to_string(), u.clone())).collect()
}

fn custom(u: &Value, key: &str) -> Option<String> {
    u["customData"].as_array()?.iter().find(|d| d["key"] == key).and_then(|d| d["value"].as_str()).map(str::to_string)
}

/// The SCIM org's groups as GraphQL shows them: name → (parent name, member ids).
async fn graphql_groups(c: &Client) -> std::collections::BTreeMap<String, (String, Vec<String>)> {
    let orgs = c.data("{ orgs(limit: 50) { list { id rootNode { code } } } }", json!({})).await;
    let org = orgs["orgs"]["list"].as_array().unwrap().iter().find(|o| o["rootNode"]["code"] == "scim").expect("the SCIM org").clone();
    let d = c
        .data(
            "query($id: String!) { org(id: $id) { nodes { id name parentId depth users(limit: 200) { totalCount list { id } } } } }",
            json!({ "id": org["id"] }),
        )
        .await;
    let nodes = d["org"]["nodes"].as_array().unwrap().clone();
    let name_of = |id: &Value| nodes.iter().find(|n| &n["id"] == id).map(|n| n["name"].as_str().unwrap().to_string()).unwrap_or_default();
    nodes
        .iter()
        .filter(|n| n["depth"] != 0)
        .map(|n| {
            let mut members: Vec<String> = n["users"]["list"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect();
            members.sort();
            (n["name"].as_str().unwrap().to_string(), (name_of(&n["parentId"]), members))
        })
        .collect()
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn provisioning_with_scim2_client_as_okta_and_entra_do() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let token = scim_token(&c, "okta").await;
    let venv = tokio::task::spawn_blocking(venv).await.unwrap();
    let mut child = tokio::process::Command::new(venv.join("bin/python"))
        .arg(script("provision.py"))
        .env("ORGRAPH_SCIM_URL", format!("{}/scim/v2", s.url))
        .env("ORGRAPH_SCIM_TOKEN", &token)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut step = async |name: &str| -> Value {
        let started = Instant::now();
        stdin.write_all(format!("{name}\n").as_bytes()).await.expect("write step");
        stdin.flush().await.expect("flush");
        let line = lines.next_line().await.expect("read").unwrap_or_else(|| panic!("provision.py stopped before {name}"));
        let r: Value = serde_json::from_str(&line).expect("one JSON line per step");
        assert_eq!(r["ok"], true, "step {name}: {r}");
        eprintln!("step {name}: {:.2} s", started.elapsed().as_secs_f64());
        r
    };

    // 50 users with the Enterprise User extension.
    let r = step("users").await;
    let ids: Vec<String> = serde_json::from_value(r["users"].clone()).unwrap();
    assert_eq!(ids.len(), 50);
    let users = graphql_users(&c).await;
    assert_eq!(users.len(), 50);
    for (i, id) in ids.iter().enumerate() {
        let u = &users[id];
        assert_eq!(u["username"], format!("user{i:02}@example.com"));
        assert_eq!(u["email"], format!("user{i:02}@example.com"));
        assert_eq!(u["name"], format!("User {i:02}"));
        assert_eq!(u["givenName"], format!("Given{i:02}"));
        assert_eq!(u["familyName"], format!("Family{i:02}"));
        assert_eq!(u["externalId"], format!("00u{i:04}"));
        assert_eq!(u["status"], "Activated");
        assert_eq!(custom(u, "employeeNumber"), Some((1000 + i).to_string()));
        assert_eq!(custom(u, "department").as_deref(), Some(if i < 25 { "Engineering" } else { "Sales" }));
        assert_eq!(custom(u, "costCenter"), Some(format!("CC{}", i % 3)));
        assert_eq!(custom(u, "organization").as_deref(), Some("Acme"));
        assert_eq!(custom(u, "division").as_deref(), Some("EMEA"));
        assert_eq!(custom(u, "manager"), if i == 0 { None } else { Some(ids[0].clone()) });
    }

    // Groups with members, one under another.
    let r = step("groups").await;
    let group_ids = r["groups"].clone();
    let groups = graphql_groups(&c).await;
    let expect = |range: std::ops::Range<usize>| sorted(&ids[range]);
    assert_eq!(groups["Engineering"], (String::from("SCIM"), expect(0..10)));
    assert_eq!(groups["Sales"], (String::from("SCIM"), expect(10..20)));
    assert_eq!(groups["Platform"], (String::from("Engineering"), expect(20..25)));

    // Rename.
    let r = step("rename").await;
    assert_eq!(r["displayName"], "Research & Development");
    let groups = graphql_groups(&c).await;
    assert!(!groups.contains_key("Engineering"));
    assert_eq!(groups["Research & Development"].1, expect(0..10));
    assert_eq!(groups["Platform"].0, "Research & Development");

    // A user moves from Sales to Engineering.
    let r = step("move").await;
    let moved = r["user"].as_str().unwrap().to_string();
    let d = c.data("query($id: String) { user(id: $id) { departments { list { department { id name } } } } }", json!({ "id": moved })).await;
    let deps: Vec<&str> = d["user"]["departments"]["list"].as_array().unwrap().iter().map(|x| x["department"]["name"].as_str().unwrap()).collect();
    assert_eq!(deps, ["Research & Development"]);
    let groups = graphql_groups(&c).await;
    assert!(!groups["Sales"].1.contains(&moved));
    assert!(groups["Research & Development"].1.contains(&moved));
    assert_eq!(groups["Sales"].1.len(), 9);

    // Deactivation suspends; the user stays.
    let r = step("deactivate").await;
    assert_eq!(r["active"], false);
    assert_eq!(r["inactive"], json!([r["user"]]));
    let users = graphql_users(&c).await;
    assert_eq!(users[r["user"].as_str().unwrap()]["status"], "Suspended");
    assert_eq!(users.len(), 50);

    // Deleting a group keeps its users.
    let r = step("delete_group").await;
    assert_eq!(r["gone"], true);
    assert_eq!(r["groups"], json!(["Platform", "Research & Development"]));
    let groups = graphql_groups(&c).await;
    assert_eq!(groups.keys().collect::<Vec<_>>(), ["Platform", "Research & Development"]);
    assert_eq!(graphql_users(&c).await.len(), 50);
    let (code, _) = c.error("query($id: String!) { nodeById(id: $id) { id } }", json!({ "id": group_ids["Sales"] })).await;
    assert_eq!(code, "NOT_FOUND");
    drop(stdin);
    let _ = child.wait().await;

    // The same events as any other change, in the pool's event log (webhooks and subscriptions
    // read the same rows).
    let d = c.data("{ events(first: 1000) { eventName } }", json!({})).await;
    let names: Vec<&str> = d["events"].as_array().unwrap().iter().map(|e| e["eventName"].as_str().unwrap()).collect();
    let n = |name: &str| names.iter().filter(|e| **e == name).count();
    assert_eq!(n("user:created"), 50);
    assert_eq!(n("organization:created"), 1, "the SCIM org, on the first group");
    assert_eq!(n("organization:node-added"), 3);
    assert_eq!(n("organization:node-updated"), 1);
    assert_eq!(n("organization:member-added"), 10 + 10 + 5 + 1);
    assert_eq!(n("organization:member-removed"), 1);
    assert_eq!(n("organization:node-deleted"), 1);
    assert!(n("user:updated") >= 1);
}

#[tokio::test]
async fn tokens_are_per_pool_and_only_for_scim() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let token = scim_token(&c, "okta").await;
    assert!(token.starts_with("scim_") && token.len() == 69, "{token}");
    let scim = Scim::new(&s, &token);
    let (st, bob) = scim.post("/Users", user_body("bob")).await;
    assert_eq!(st, 201, "{bob}");

    // No token, a management JWT, a made-up token: 401 with a SCIM error.
    for bad in [None, c.token.as_deref(), Some("scim_0000000000000000000000000000000000000000000000000000000000000000")] {
        let mut req = reqwest::Client::new().get(format!("{}/scim/v2/Users", s.url));
        if let Some(t) = bad {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"scim\"");
        assert_scim_error(status, &res.json().await.unwrap(), 401, None);
    }
    // A SCIM token is no management token.
    let (code, _) = c.with_token(&token).error("{ users { totalCount } }", json!({})).await;
    assert_eq!(code, "INVALID_TOKEN");

    // Pools are isolated: another pool's token sees none of this pool's users or groups.
    let (pool_b, secret_b) = s.new_pool("b").await;
    let b_admin = s.client_for(&pool_b, &secret_b).await;
    let scim_b = Scim::new(&s, &scim_token(&b_admin, "entra").await);
    let (st, body) = scim_b.get(&format!("/Users/{}", bob["id"].as_str().unwrap())).await;
    assert_scim_error(st, &body, 404, None);
    assert_eq!(scim_b.user_ids("userName eq \"bob\"").await, Vec::<String>::new());
    let (st, _) = scim_b.post("/Users", user_body("bob")).await;
    assert_eq!(st, 201, "the same userName in another pool");
    assert_eq!(scim_b.delete(&format!("/Users/{}", bob["id"].as_str().unwrap())).await, 404);

    // Listed without their values, revoked by id; a revoked token is refused at once.
    let d = c.data("{ scimTokens { id name createdAt } }", json!({})).await;
    let listed = d["scimTokens"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "okta");
    let (code, _) = b_admin.error("mutation($id: String!) { revokeScimToken(id: $id) { code } }", json!({ "id": listed[0]["id"] })).await;
    assert_eq!(code, "NOT_FOUND", "another pool's token cannot be revoked");
    c.data("mutation($id: String!) { revokeScimToken(id: $id) { code } }", json!({ "id": listed[0]["id"] })).await;
    let (st, body) = scim.get("/Users").await;
    assert_scim_error(st, &body, 401, None);
}

#[tokio::test]
async fn the_command_line_creates_lists_and_revokes_tokens() {
    let s = TestServer::start().await;
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_orgraph"))
            .args(args)
            .env("DATABASE_URL", &s.db.url)
            .env("ORGRAPH_LOG", "warn")
            .output()
            .expect("orgraph runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let created = run(&["scim-token", "create", "--pool", &s.pool_id, "--name", "entra"]);
    let token = created.lines().find_map(|l| l.strip_prefix("token: ")).expect("the token is printed").trim().to_string();
    let id = created.lines().find_map(|l| l.strip_prefix("id:    ")).expect("its id").trim().to_string();
    let (st, _) = Scim::new(&s, &token).get("/Users").await;
    assert_eq!(st, 200);
    assert!(run(&["scim-token", "list", "--pool", &s.pool_id]).contains(&format!("{id}\tentra")));
    run(&["scim-token", "revoke", "--pool", &s.pool_id, &id]);
    let (st, _) = Scim::new(&s, &token).get("/Users").await;
    assert_eq!(st, 401);
}

#[tokio::test]
async fn what_entra_id_and_okta_send() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let scim = Scim::new(&s, &scim_token(&c, "entra").await);

    // Entra ID's create: its meta and roles, a primary work e-mail, the enterprise extension.
    let (st, u) = scim.post("/Users", json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": "jdoe", "userName": "JDoe@contoso.com", "active": true,
        "emails": [{ "primary": true, "type": "work", "value": "JDoe@contoso.com" }],
        "meta": { "resourceType": "User" }, "name": { "formatted": "John Doe", "familyName": "Doe", "givenName": "John" },
        "roles": [], ENTERPRISE: { "employeeNumber": 1234, "department": "Finance" },
    })).await;
    assert_eq!(st, 201, "{u}");
    let id = u["id"].as_str().unwrap().to_string();
    assert_eq!(u["schemas"], json!([USER, ENTERPRISE]));
    assert_eq!(u["userName"], "JDoe@contoso.com", "userName as sent");
    assert_eq!(u["emails"], json!([{ "value": "jdoe@contoso.com", "type": "work" }]));
    assert_eq!(u[ENTERPRISE], json!({ "employeeNumber": "1234", "department": "Finance" }));
    assert_eq!(u["meta"]["location"], format!("{}/scim/v2/Users/{id}", s.url));
    assert_eq!(u["meta"]["resourceType"], "User");
    // A second create of the same userName (any case) is a conflict.
    let (st, body) = scim.post("/Users", user_body("JDoe@contoso.com")).await;
    assert_eq!(st, 409, "{body}");
    let (st, body) = scim.post("/Users", json!({ "schemas": [USER], "userName": "other", "externalId": "jdoe" })).await;
    assert_scim_error(st, &body, 409, Some("uniqueness"));

    // Entra ID's default PATCH: capitalised ops, "False", paths with filters, the bare manager.
    let (st, m) = scim.post("/Users", user_body("manager")).await;
    assert_eq!(st, 201);
    let manager = m["id"].as_str().unwrap();
    let (st, u) = scim.patch(&format!("/Users/{id}"), json!([
        { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "john.doe@contoso.com" },
        { "op": "Replace", "path": "name.givenName", "value": "Johnny" },
        { "op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100" },
        { "op": "Add", "path": "title", "value": "Accountant" },
        { "op": "Add", "path": "nickName", "value": "JD" },
        { "op": "Add", "path": "preferredLanguage", "value": "en-US" },
        { "op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": manager },
        { "op": "Replace", "path": "active", "value": "False" },
    ])).await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["emails"], json!([{ "value": "john.doe@contoso.com", "type": "work" }]));
    assert_eq!(u["name"], json!({ "formatted": "John Doe", "familyName": "Doe", "givenName": "Johnny" }));
    assert_eq!(u["phoneNumbers"], json!([{ "value": "+1 555 0100", "type": "mobile" }]));
    assert_eq!(u["title"], "Accountant");
    assert_eq!(u["nickName"], "JD");
    assert_eq!(u["active"], false);
    assert_eq!(u[ENTERPRISE]["manager"], json!({ "value": manager, "$ref": format!("{}/scim/v2/Users/{manager}", s.url) }));
    let d = c.data("query($id: String) { user(id: $id) { status phone nickname givenName customData { key value } } }", json!({ "id": id })).await;
    assert_eq!(d["user"]["status"], "Suspended");
    assert_eq!(d["user"]["phone"], "+1 555 0100");
    assert_eq!(custom(&d["user"], "title").as_deref(), Some("Accountant"));
    assert_eq!(custom(&d["user"], "manager").as_deref(), Some(manager));
    // Entra ID with ?aadOptscim062020: a path-less replace whose keys are paths.
    let (st, u) = scim.patch(&format!("/Users/{id}"), json!([{ "op": "replace", "value": {
        "displayName": "John D.", "name.familyName": "Doe-Smith", format!("{ENTERPRISE}:employeeNumber"): "4321", "active": true,
    } }])).await;
    assert_eq!(st, 200, "{u}");
    assert_eq!((u["displayName"].as_str(), u["name"]["familyName"].as_str(), u[ENTERPRISE]["employeeNumber"].as_str(), u["active"].as_bool()),
        (Some("John D."), Some("Doe-Smith"), Some("4321"), Some(true)));

    // Okta (AIW apps): GET, then PUT of the whole user, id, groups and meta included.
    let (_, mut got) = scim.get(&format!("/Users/{id}")).await;
    got["displayName"] = json!("John Doe");
    got["groups"] = json!([]);
    got["password"] = json!("1mz050nq");
    got.as_object_mut().unwrap().remove("phoneNumbers");
    let (st, u) = scim.put(&format!("/Users/{id}"), got).await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["displayName"], "John Doe");
    assert!(u.get("phoneNumbers").is_none(), "PUT replaces: what is left out is cleared");
    // Okta deactivates with a path-less replace.
    let (st, u) = scim.patch(&format!("/Users/{id}"), json!([{ "op": "replace", "value": { "active": false } }])).await;
    assert_eq!((st.as_u16(), u["active"].as_bool()), (200, Some(false)));

    // Filters: every operator, on every mapped attribute, in SQL.
    // Every write so far was answered, so it is not after `before`. SQLite compares times to
    // the millisecond: the users below are written once the clock is past that millisecond.
    let before = chrono::Utc::now();
    crate::harness::wait_until("the clock to pass `before` by a millisecond", || async {
        chrono::Utc::now() - before > chrono::Duration::milliseconds(1)
    })
    .await;
    for (name, given, dept, email) in [("ann", "Ann", "R&D", "ann@x.io"), ("anna", "Anna", "Sales", "anna@y.io"), ("ben", "Ben", "R&D", "ben@x.io")] {
        let (st, body) = scim.post("/Users", json!({
            "schemas": [USER, ENTERPRISE], "userName": name, "active": name != "ben", "externalId": format!("ext-{name}"),
            "name": { "givenName": given }, "emails": [{ "value": email, "type": "work" }], ENTERPRISE: { "department": dept },
        })).await;
        assert_eq!(st, 201, "{body}");
    }
    let names = async |filter: &str| -> Vec<String> {
        let mut out = Vec::new();
        for id in scim.user_ids(filter).await {
            let (_, u) = scim.get(&format!("/Users/{id}")).await;
            out.push(u["userName"].as_str().unwrap().to_string());
        }
        out.sort();
        out
    };
    assert_eq!(names("userName eq \"ANN\"").await, ["ann"]);
    assert_eq!(names("userName sw \"an\"").await, ["ann", "anna"]);
    assert_eq!(names("userName co \"nn\" and not (userName ew \"a\")").await, ["ann"]);
    assert_eq!(names("emails.value ew \"@x.io\"").await, ["ann", "ben"]);
    assert_eq!(names("emails[type eq \"work\" and value co \"y.io\"]").await, ["anna"]);
    assert_eq!(names("emails[type eq \"work\"].value eq \"ben@x.io\"").await, ["ben"]);
    assert_eq!(names("externalId eq \"ext-anna\" or name.givenName eq \"ben\"").await, ["anna", "ben"]);
    assert_eq!(names(&format!("{ENTERPRISE}:department eq \"r&d\" and active eq true")).await, ["ann"]);
    assert_eq!(names("active eq false and userName ne \"JDoe@contoso.com\"").await, ["ben"]);
    assert_eq!(names("phoneNumbers pr").await, Vec::<String>::new(), "the PUT cleared it");
    assert_eq!(names("title pr and nickName eq \"jd\"").await, ["JDoe@contoso.com"]);
    assert_eq!(names(&format!("meta.lastModified gt \"{}\" and userName sw \"a\"", before.to_rfc3339())).await, ["ann", "anna"]);
    assert_eq!(names(&format!("meta.created lt \"{}\"", before.to_rfc3339())).await, ["JDoe@contoso.com", "manager"]);
    // Pages: 1-based startIndex, count, the same order every time.
    let (_, page) = scim.get("/Users?startIndex=2&count=2").await;
    assert_eq!((page["totalResults"].as_u64(), page["startIndex"].as_u64(), page["itemsPerPage"].as_u64()), (Some(5), Some(2), Some(2)));
    assert_eq!(page["Resources"][0]["userName"], "manager");
    let (_, page) = scim.get("/Users?startIndex=0&count=-3").await;
    assert_eq!((page["totalResults"].as_u64(), page["itemsPerPage"].as_u64()), (Some(5), Some(0)));
    let (_, page) = scim.get("/Users?attributes=userName&filter=userName%20eq%20%22ben%22").await;
    assert_eq!(page["Resources"][0].as_object().unwrap().keys().collect::<Vec<_>>(), ["id", "meta", "schemas", "userName"]);

    // Groups as Entra ID sends them: a foreign schema, members added and removed by value.
    let (st, g) = scim.post("/Groups", json!({
        "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "Group1DisplayName", "meta": { "resourceType": "Group" },
    })).await;
    assert_eq!(st, 201, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    let ann = scim.user_ids("userName eq \"ann\"").await.remove(0);
    let ben = scim.user_ids("userName eq \"ben\"").await.remove(0);
    let (st, g) = scim.patch(&format!("/Groups/{gid}"), json!([{ "op": "Add", "path": "members", "value": [{ "$ref": null, "value": ann }, { "value": ben }] }])).await;
    assert_eq!(st, 200, "{g}");
    assert_eq!(g["members"].as_array().unwrap().len(), 2);
    let (st, g) = scim.patch(&format!("/Groups/{gid}"), json!([{ "op": "Remove", "path": "members", "value": [{ "value": ann }] }])).await;
    assert_eq!(st, 200);
    assert_eq!(g["members"], json!([{ "value": ben, "$ref": format!("{}/scim/v2/Users/{ben}", s.url), "type": "User" }]));
    let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("filter", "displayName eq \"group1displayname\"").append_pair("excludedAttributes", "members").finish();
    let (_, found) = scim.get(&format!("/Groups?{q}")).await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], gid.as_str());
    assert!(found["Resources"][0].get("members").is_none());
    let (_, found) = scim.get(&format!("/Groups?filter={}", url::form_urlencoded::byte_serialize(format!("members[value eq \"{ben}\"]").as_bytes()).collect::<String>())).await;
    assert_eq!(found["totalResults"], 1);
    // Okta's rename: a path-less replace that repeats the id.
    let (st, g) = scim.patch(&format!("/Groups/{gid}"), json!([{ "op": "replace", "value": { "id": gid, "displayName": "Finance" } }])).await;
    assert_eq!((st.as_u16(), g["displayName"].as_str()), (200, Some("Finance")));

    // Versions: ETag on reads, 304 for If-None-Match, 412 for a stale If-Match; a membership
    // change gives a group a new version.
    let (st, h, g) = scim.send(Method::GET, &format!("/Groups/{gid}"), None, &[]).await;
    assert_eq!(st, 200);
    let etag = h["etag"].to_str().unwrap().to_string();
    assert_eq!(g["meta"]["version"], etag.as_str());
    let (st, _, _) = scim.send(Method::GET, &format!("/Groups/{gid}"), None, &[("if-none-match", &etag)]).await;
    assert_eq!(st, 304);
    scim.patch(&format!("/Groups/{gid}"), json!([{ "op": "add", "path": "members", "value": [{ "value": ann }] }])).await;
    let (st, _, body) = scim.send(Method::PATCH, &format!("/Groups/{gid}"), Some(json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "displayName", "value": "Lost update" }] })), &[("if-match", &etag)]).await;
    assert_scim_error(st, &body, 412, None);
    let (_, u) = scim.get(&format!("/Users/{ann}")).await;
    let version = u["meta"]["version"].as_str().unwrap().to_string();
    let (st, _, u) = scim.send(Method::PUT, &format!("/Users/{ann}"), Some(json!({ "schemas": [USER], "userName": "ann", "displayName": "Ann" })), &[("if-match", &version)]).await;
    assert_eq!(st, 200, "{u}");
    assert_ne!(u["meta"]["version"], version.as_str());

    // A group tree: a parent named by orgraph's extension; deleting the parent moves its child up.
    const EXT: &str = "urn:orgraph:params:scim:schemas:extension:2.0:Group";
    let (st, child) = scim.post("/Groups", json!({ "schemas": [GROUP, EXT], "displayName": "Payroll", EXT: { "parent": { "value": gid } } })).await;
    assert_eq!(st, 201, "{child}");
    assert_eq!(child[EXT]["parent"]["value"], gid.as_str());
    let (st, body) = scim.patch(&format!("/Groups/{gid}"), json!([{ "op": "replace", "path": format!("{EXT}:parent"), "value": { "value": child["id"] } }])).await;
    assert_scim_error(st, &body, 400, Some("invalidValue"));
    assert_eq!(scim.delete(&format!("/Groups/{gid}")).await, 204);
    let (_, child) = scim.get(&format!("/Groups/{}", child["id"].as_str().unwrap())).await;
    assert!(child.get(EXT).is_none(), "now right under the root: {child}");
    let (st, body) = scim.get(&format!("/Groups/{gid}")).await;
    assert_scim_error(st, &body, 404, None);
}

#[tokio::test]
async fn bad_input_gets_scim_errors_and_changes_nothing() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let scim = Scim::new(&s, &scim_token(&c, "t").await);
    let (_, bob) = scim.post("/Users", json!({ "schemas": [USER], "userName": "bob", "active": true, "displayName": "Bob" })).await;
    let bob_id = bob["id"].as_str().unwrap().to_string();
    let (_, group) = scim.post("/Groups", json!({ "schemas": [GROUP], "displayName": "Dev", "members": [{ "value": bob_id }] })).await;
    let gid = group["id"].as_str().unwrap().to_string();
    let events = async || c.data("{ events(first: 1000) { id } }", json!({})).await["events"].as_array().unwrap().len();
    let state = async || (scim.get(&format!("/Users/{bob_id}")).await.1, scim.get(&format!("/Groups/{gid}")).await.1, scim.get("/Users").await.1["totalResults"].clone());
    let (events_before, state_before) = (events().await, state().await);

    // Invalid filters.
    for f in [
        "userName", "userName eq", "userName eq bob", "userName xx \"bob\"", "(userName eq \"bob\"", "favouriteColour eq \"red\"",
        "active eq \"yes\"", "active gt true", "meta.lastModified gt \"yesterday\"", "emails[type eq \"work\"", "name[givenName eq \"x\"]",
        &format!("{}userName eq \"a\"{}", "(".repeat(20), ")".repeat(20)), &vec!["userName pr"; 70].join(" or "),
        &format!("userName eq \"{}\"", "x".repeat(5000)),
    ] {
        let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("filter", f).finish();
        let (st, body) = scim.get(&format!("/Users?{q}")).await;
        assert_scim_error(st, &body, 400, Some("invalidFilter"));
    }
    let (st, body) = scim.get("/Groups?filter=members.value%20co%20%22x%22").await;
    assert_scim_error(st, &body, 400, Some("invalidFilter"));
    let (st, body) = scim.get("/Users?count=ten").await;
    assert_scim_error(st, &body, 400, Some("invalidValue"));
    let (st, body) = scim.get("/Users?attributes=favouriteColour").await;
    assert_scim_error(st, &body, 400, Some("invalidValue"));

    // Unknown attributes, wrong schemas, wrong types, missing required attributes.
    for (body, scim_type) in [
        (json!({ "schemas": [USER], "userName": "eve", "favouriteColour": "red" }), "invalidSyntax"),
        (json!({ "schemas": [USER, ENTERPRISE], "userName": "eve", ENTERPRISE: { "shoeSize": 42 } }), "invalidSyntax"),
        (json!({ "schemas": [GROUP], "userName": "eve" }), "invalidSyntax"),
        (json!({ "userName": "eve" }), "invalidSyntax"),
        (json!({ "schemas": [USER], "displayName": "no userName" }), "invalidValue"),
        (json!({ "schemas": [USER], "userName": "eve", "active": "maybe" }), "invalidValue"),
        (json!({ "schemas": [USER], "userName": "eve", "emails": "eve@x.io" }), "invalidValue"),
        (json!({ "schemas": [USER], "userName": "eve", "emails": [{ "value": "not an address" }] }), "invalidValue"),
        (json!({ "schemas": [USER], "userName": ["eve"] }), "invalidValue"),
        (json!({ "schemas": [USER], "userName": "bob" }), "uniqueness"),
    ] {
        let (st, res) = scim.post("/Users", body.clone()).await;
        assert_scim_error(st, &res, if scim_type == "uniqueness" { 409 } else { 400 }, Some(scim_type));
    }
    for (body, scim_type) in [
        (json!({ "schemas": [GROUP], "displayName": "X", "members": [{ "value": "no-such-user" }] }), "invalidValue"),
        (json!({ "schemas": [GROUP], "displayName": "X", "owner": "me" }), "invalidSyntax"),
        (json!({ "schemas": [GROUP] }), "invalidValue"),
        (json!({ "schemas": [GROUP], "displayName": "X", "urn:orgraph:params:scim:schemas:extension:2.0:Group": { "parent": { "value": bob_id } } }), "invalidValue"),
    ] {
        let (st, res) = scim.post("/Groups", body).await;
        assert_scim_error(st, &res, 400, Some(scim_type));
    }
    let (st, _, res) = scim.send(Method::POST, "/Users", None, &[]).await;
    assert_scim_error(st, &res, 400, Some("invalidSyntax"));
    let (st, _, res) = scim.send(Method::POST, "/Users", Some(Value::String("{not json".into())), &[]).await;
    assert_scim_error(st, &res, 400, Some("invalidSyntax"));

    // PATCH: unknown paths, read-only attributes, bad ops, no target, too many operations; a bad
    // operation after good ones undoes them all.
    for (ops, scim_type) in [
        (json!([{ "op": "replace", "path": "displayName", "value": "Robert" }, { "op": "add", "path": "favouriteColour", "value": "red" }]), "invalidPath"),
        (json!([{ "op": "replace", "path": "id", "value": "x" }]), "mutability"),
        (json!([{ "op": "replace", "path": "meta.created", "value": "x" }]), "mutability"),
        (json!([{ "op": "copy", "path": "displayName" }]), "invalidSyntax"),
        (json!([{ "op": "remove" }]), "noTarget"),
        (json!([{ "op": "replace", "path": "emails[type eq \"home\" or type eq \"other\"].value", "value": "b@x.io" }]), "noTarget"),
        (json!([{ "op": "replace", "path": "displayName", "value": "Robert" }, { "op": "remove", "path": "userName" }, { "op": "replace", "path": "active", "value": 3 }]), "invalidValue"),
        (json!(vec![json!({ "op": "replace", "path": "displayName", "value": "x" }); 101]), "tooMany"),
        (json!([]), "invalidSyntax"),
    ] {
        let (st, res) = scim.patch(&format!("/Users/{bob_id}"), ops.clone()).await;
        assert_scim_error(st, &res, 400, Some(scim_type));
    }
    let (st, _, res) = scim.send(Method::PATCH, &format!("/Users/{bob_id}"), Some(json!({ "Operations": [{ "op": "remove", "path": "title" }] })), &[]).await;
    assert_scim_error(st, &res, 400, Some("invalidSyntax"));
    let (st, res) = scim.patch(&format!("/Groups/{gid}"), json!([{ "op": "add", "path": "members", "value": [{ "value": "ghost" }] }])).await;
    assert_scim_error(st, &res, 400, Some("invalidValue"));
    let (st, res) = scim.patch(&format!("/Groups/{gid}"), json!([{ "op": "replace", "path": "displayName", "value": "" }])).await;
    assert_scim_error(st, &res, 400, Some("invalidValue"));

    // Oversized requests: 413 before anything is read.
    let big = json!({ "schemas": [USER], "userName": "big", "displayName": "x".repeat(1 << 20) });
    let (st, res) = scim.post("/Users", big).await;
    assert_scim_error(st, &res, 413, None);

    // Unknown ids and endpoints, wrong methods, the server-root search.
    let (st, res) = scim.get("/Users/nope").await;
    assert_scim_error(st, &res, 404, None);
    assert_eq!(scim.delete("/Groups/nope").await, 404);
    let (st, res) = scim.get("/Widgets").await;
    assert_scim_error(st, &res, 404, None);
    let (st, _, res) = scim.send(Method::DELETE, "/ServiceProviderConfig", None, &[]).await;
    assert_scim_error(st, &res, 405, None);
    let (st, res) = scim.post("/.search", json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"] })).await;
    assert_scim_error(st, &res, 501, None);

    assert_eq!(state().await, state_before, "nothing changed");
    assert_eq!(events().await, events_before, "no event was written");
}

/// A group's other department fields (set through the org APIs) are in orgraph's read-only
/// Department extension, returned when asked for; what a client sends back of it is ignored.
#[tokio::test]
async fn a_group_shows_its_department_fields_when_asked() {
    const DEPARTMENT: &str = "urn:orgraph:params:scim:schemas:extension:2.0:Department";
    let s = TestServer::start().await;
    let c = s.admin().await;
    let scim = Scim::new(&s, &scim_token(&c, "idp").await);
    let (st, g) = scim.post("/Groups", json!({ "schemas": [GROUP], "displayName": "Payroll" })).await;
    assert_eq!(st, 201, "{g}");
    assert!(g.get(DEPARTMENT).is_none(), "not returned unless asked: {g}");
    let gid = g["id"].as_str().unwrap().to_string();
    c.data(r#"mutation($id: String!) { updateNode(id: $id, code: "pay", order: 4, customData: { cost: "C-1" }) { id } }"#, json!({ "id": gid })).await;
    let (st, g) = scim.get(&format!("/Groups/{gid}?attributes={DEPARTMENT}")).await;
    assert_eq!(st, 200, "{g}");
    assert_eq!(g[DEPARTMENT]["code"], "pay", "{g}");
    assert_eq!(g[DEPARTMENT]["order"], 4, "{g}");
    assert_eq!(g[DEPARTMENT]["customData"], r#"{"cost":"C-1"}"#, "JSON as text: {g}");
    assert_eq!(g[DEPARTMENT]["enabled"], true, "{g}");
    assert!(g["schemas"].as_array().unwrap().iter().any(|s| s == DEPARTMENT), "{g}");
    // Sending it back with other values changes nothing: the fields are read-only here.
    let (st, _) = scim.put(&format!("/Groups/{gid}"), json!({ "schemas": [GROUP, DEPARTMENT], "displayName": "Payroll", DEPARTMENT: { "code": "other" } })).await;
    assert_eq!(st, 200);
    let d = c.data("query($id: String!) { nodeById(id: $id) { code order } }", json!({ "id": gid })).await;
    assert_eq!(d["nodeById"], json!({ "code": "pay", "order": 4 }));
    // Published in /Schemas from the field list.
    let (_, schema) = scim.get(&format!("/Schemas/{DEPARTMENT}")).await;
    let names: Vec<&str> = schema["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"code") && names.contains(&"isVirtualNode") && !names.contains(&"name"), "{names:?}");
}
