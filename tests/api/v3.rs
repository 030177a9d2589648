//! The GenAuth v3 REST API driven by its official SDKs, unchanged: authing-node-sdk 4.0.1 (every
//! request HMAC-signed) and PyPI authing 5.1.0 (a bearer token from get-management-token), as a
//! v3-only user would. Plus what the SDKs cannot show: signatures that must fail, the events the
//! calls wrote, the tree left consistent.

use std::{path::PathBuf, process::Command, time::Duration};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

use crate::{
    harness::{POOL_SECRET, TestServer},
    sdk::run_sdk_script,
    sdk_py::venv,
};

/// Event names recorded in the pool, oldest first.
async fn event_names(s: &TestServer) -> Vec<String> {
    let admin = s.admin().await;
    let d = admin.data("{ events(first: 1000) { eventName } }", json!({})).await;
    d["events"].as_array().unwrap().iter().map(|e| e["eventName"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn node_sdk_manages_organizations_departments_users_and_members() {
    let s = TestServer::start().await;
    let summary = run_sdk_script(&s, "v3_org.cjs").await;
    assert_eq!(summary["ok"], true);
    assert!(summary["batchError"].as_str().unwrap().contains("list[1]"), "{summary}");
    // Every change was an event, written with it.
    let names = event_names(&s).await;
    for name in [
        "organization:created", "organization:node-added", "organization:node-moved", "organization:node-updated",
        "organization:member-added", "organization:member-removed", "organization:node-deleted", "organization:deleted",
        "organization:imported", "user:created", "user:updated", "user:deleted",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    // The organizations left behind (the generated-code one and the tree) hold every invariant.
    use sea_orm::EntityTrait;
    let orgs = entity::org::Entity::find().all(&s.state.db).await.unwrap();
    assert_eq!(orgs.len(), 2);
    for org in orgs {
        assert_eq!(s.state.orgs.check_invariants(&org.id).await.unwrap(), Vec::<String>::new());
    }
    let users = entity::user::Entity::find().all(&s.state.db).await.unwrap();
    assert!(users.is_empty(), "the script deleted its users: {users:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_manages_organizations_departments_users_and_members() {
    let s = TestServer::start().await;
    let venv = tokio::task::spawn_blocking(venv).await.unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk-py/v3_org.py");
    let (url, pool) = (s.url.clone(), s.pool_id.clone());
    let run = tokio::task::spawn_blocking(move || {
        Command::new(venv.join("bin/python"))
            .arg(script)
            .env("ORGRAPH_HOST", url)
            .env("ORGRAPH_POOL_ID", pool)
            .env("ORGRAPH_POOL_SECRET", POOL_SECRET)
            .output()
            .expect("python runs")
    });
    // The SDK never times out by itself.
    let out = tokio::time::timeout(Duration::from_secs(120), run).await.expect("the Python script finished in time").unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("JSON summary");
    assert_eq!(r["ok"], true);
    let names = event_names(&s).await;
    for name in ["organization:node-moved", "organization:member-added", "user:deleted", "organization:deleted"] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
}

pub(crate) fn sign(secret: &str, text: &str) -> String {
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A request signed the way authing-node-sdk signs, with a chosen date and secret.
async fn signed_get(s: &TestServer, path_and_query: &str, signed_query: &str, secret: &str, date: &str) -> (u16, Value) {
    signed_get_by(&reqwest::Client::new(), s, path_and_query, signed_query, secret, date).await
}

/// The same, sent by `http` (one client for many requests).
async fn signed_get_by(http: &reqwest::Client, s: &TestServer, path_and_query: &str, signed_query: &str, secret: &str, date: &str) -> (u16, Value) {
    let (path, _) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let text = format!("GET\ndate:{date}\nx-authing-sdk-version:test\n{path}?{signed_query}");
    let r = http
        .get(format!("{}{path_and_query}", s.url))
        .header("date", date)
        .header("x-authing-sdk-version", "test")
        .header("authorization", format!("authing {}:{}", s.pool_id, sign(secret, &text)))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn signatures_bind_the_secret_the_parameters_and_the_time() {
    let s = TestServer::start().await;
    let now = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let path = "/api/v3/list-organizations?page=1&limit=5";
    let (status, body) = signed_get(&s, path, "limit=5&page=1", POOL_SECRET, &now).await;
    assert_eq!((status, body["statusCode"].clone()), (200, json!(200)), "{body}");
    // Another secret, a parameter changed after signing, an old date: refused, and not by luck.
    let (status, body) = signed_get(&s, path, "limit=5&page=1", "not-the-secret-at-all", &now).await;
    assert_eq!((status, body["statusCode"].clone(), body["errorCode"].clone()), (401, json!(401), json!("INVALID_CREDENTIALS")));
    let (status, _) = signed_get(&s, "/api/v3/list-organizations?page=1&limit=50", "limit=5&page=1", POOL_SECRET, &now).await;
    assert_eq!(status, 401);
    let old = (chrono::Utc::now() - chrono::Duration::minutes(20)).format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let (status, body) = signed_get(&s, path, "limit=5&page=1", POOL_SECRET, &old).await;
    assert_eq!(status, 401);
    assert!(body["message"].as_str().unwrap().contains("15 minutes"), "{body}");
    // Another pool's id with this pool's signature: the same refusal as a wrong secret.
    let r = reqwest::Client::new()
        .get(format!("{}{path}", s.url))
        .header("date", &now)
        .header("authorization", format!("authing no-such-pool:{}", sign(POOL_SECRET, "x")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // No credentials at all.
    let r = reqwest::get(format!("{}{path}", s.url)).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errorCode"], "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread")]
async fn v3_errors_carry_their_status_except_to_the_node_sdk() {
    let s = TestServer::start().await;
    let token = s.v3_token().await;
    let get = |sdk: Option<&'static str>| {
        let mut r = reqwest::Client::new().get(format!("{}/api/v3/get-organization?organizationCode=nope", s.url)).bearer_auth(&token);
        if let Some(v) = sdk {
            r = r.header("x-authing-sdk-version", v);
        }
        r.send()
    };
    let plain = get(None).await.unwrap();
    assert_eq!(plain.status().as_u16(), 404);
    let body: Value = plain.json().await.unwrap();
    assert_eq!((body["statusCode"].clone(), body["apiCode"].clone()), (json!(404), json!(404)));
    let node = get(Some("authing-node-sdk:4.0.1")).await.unwrap();
    assert_eq!(node.status().as_u16(), 200, "the Node SDK reads errors from 2xx bodies only");
    let body: Value = node.json().await.unwrap();
    assert_eq!(body["statusCode"], 404);
    // Unknown v3 routes answer the envelope too.
    let r = reqwest::Client::new().get(format!("{}/api/v3/no-such-route", s.url)).header("x-authing-sdk-version", "authing-node-sdk:4.0.1").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["statusCode"], 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_and_v3_read_and_write_the_same_department_fields() {
    use crate::{orgs::{add_node, create_org, id}, users::create};
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Shared", "shared").await;
    let dep = id(&add_node(&c, &id(&org), &id(&org["rootNode"]), "Ops", Some("ops")).await);
    let (u1, u2) = (id(&create(&c, json!({ "username": "u1" })).await), id(&create(&c, json!({ "username": "u2" })).await));
    let d = c
        .data(
            "mutation($id: String!, $l: [String!], $cd: JSON) {
               updateNode(id: $id, leaderUserIds: $l, openDepartmentId: \"ext-ops\", enabled: false, customData: $cd) {
                 leaderUserId leaderUserIds openDepartmentId enabled customData } }",
            json!({ "id": dep, "l": [u1, u2], "cd": { "cost": 7 } }),
        )
        .await;
    assert_eq!(
        d["updateNode"],
        json!({ "leaderUserId": u1, "leaderUserIds": [u1, u2], "openDepartmentId": "ext-ops", "enabled": false, "customData": { "cost": 7 } })
    );
    // The v3 view of the same department.
    let r = c.get("/api/v3/get-department?organizationCode=shared&departmentId=ext-ops&departmentIdType=open_department_id&withCustomData=true").await;
    let body: Value = r.json().await.unwrap();
    let v3 = &body["data"];
    assert_eq!((v3["departmentId"].clone(), v3["leaderUserIds"].clone(), v3["status"].clone()), (json!(dep), json!([u1, u2]), json!(false)), "{body}");
    assert_eq!(v3["customData"], json!({ "cost": 7 }));
    // A deleted leader leaves the list; the next one becomes the first.
    c.data("mutation($id: String!) { deleteUser(id: $id) { code } }", json!({ "id": u1 })).await;
    let d = c.data("query($id: String!) { nodeById(id: $id) { leaderUserId leaderUserIds } }", json!({ "id": dep })).await;
    assert_eq!(d["nodeById"], json!({ "leaderUserId": u2, "leaderUserIds": [u2] }));
    // And v3 changes show in GraphQL.
    let r = c
        .post_json("/api/v3/update-department", json!({ "organizationCode": "shared", "departmentId": dep, "leaderUserIds": [], "status": true }))
        .await;
    assert_eq!(r.status(), 200);
    let d = c.data("query($id: String!) { nodeById(id: $id) { leaderUserId leaderUserIds enabled } }", json!({ "id": dep })).await;
    assert_eq!(d["nodeById"], json!({ "leaderUserId": null, "leaderUserIds": [], "enabled": true }));
}

#[tokio::test(flavor = "multi_thread")]
async fn correctly_signed_requests_are_never_throttled_and_failed_ones_are() {
    use futures_util::{StreamExt as _, stream};
    // The default limits: 20 failed checks a minute from one address.
    let s = TestServer::start().await;
    let now = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let path = "/api/v3/list-organizations?page=1&limit=5";
    let started = std::time::Instant::now();
    const REQUESTS: usize = 2_100;
    let http = reqwest::Client::new();
    let statuses: Vec<u16> = stream::iter(0..REQUESTS)
        .map(|_| async { signed_get_by(&http, &s, path, "limit=5&page=1", POOL_SECRET, &now).await.0 })
        .buffer_unordered(32)
        .collect()
        .await;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(60), "sent within a minute: {elapsed:?}");
    let refused = statuses.iter().filter(|s| **s != 200).count();
    assert_eq!(refused, 0, "{refused} of {REQUESTS} signed requests refused: {:?}", statuses.iter().find(|s| **s != 200));

    // Failures spend the budget: 20 a minute, then every signed attempt of this address is
    // refused before its check, a correct one too (else a right guess would show). The budget
    // comes back at one failure per 3 s: a slow machine may see one more failure per 3 s taken.
    let failing = std::time::Instant::now();
    let mut failures = 0;
    let refusal = loop {
        let (status, body) = signed_get_by(&http, &s, path, "limit=5&page=1", "a-guessed-secret", &now).await;
        match status {
            401 => {
                assert_eq!(body["errorCode"], "INVALID_CREDENTIALS", "{body}");
                failures += 1;
            }
            _ => break (status, body),
        }
        assert!(failures <= 20 + failing.elapsed().as_secs() / 3 + 1, "{failures} failures not refused");
    };
    assert_eq!((refusal.0, refusal.1["errorCode"].clone()), (429, json!("RATE_LIMITED")), "{}", refusal.1);
    assert!(failures >= 20, "refused after {failures} failures only");
    let (status, _) = signed_get(&s, path, "limit=5&page=1", POOL_SECRET, &now).await;
    assert_eq!(status, 429, "a correct signature waits too");
    // A bearer token (no credential check) is not affected.
    let token = s.state.tokens.issue(&s.pool_id, 0).expect("a token").token;
    let r = reqwest::Client::new().get(format!("{}{path}", s.url)).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn get_organization_batch_answers_each_named_organization_as_get_organization_does() {
    use crate::orgs::{create_org, id};
    let s = TestServer::start().await;
    let c = s.admin().await;
    let acme = create_org(&c, "Acme", "acme").await;
    create_org(&c, "Beta", "beta").await;
    create_org(&c, "Gamma", "gamma").await;
    c.data("mutation($id: String!) { updateNode(id: $id, customData: { tier: \"gold\" }) { id } }", json!({ "id": id(&acme["rootNode"]) })).await;

    // As authing-node-sdk's getOrganizationsBatch sends it: `k[]` values, signed as a JSON array.
    let now = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let (status, body) = signed_get(
        &s,
        "/api/v3/get-organization-batch?organizationCodeList[]=beta&organizationCodeList[]=nope&organizationCodeList[]=acme&withCustomData=true&withPost=false",
        r#"organizationCodeList=["beta","nope","acme"]&withCustomData=true&withPost=false"#,
        POOL_SECRET,
        &now,
    )
    .await;
    assert_eq!((status, body["statusCode"].clone()), (200, json!(200)), "{body}");
    let list = body["data"].as_array().expect("a list");
    // In the order asked, the unknown code left out, each as get-organization shows it.
    assert_eq!(list.iter().map(|o| o["organizationCode"].as_str().unwrap()).collect::<Vec<_>>(), ["beta", "acme"], "{body}");
    for org in list {
        let code = org["organizationCode"].as_str().unwrap();
        let one: Value = c.get(&format!("/api/v3/get-organization?organizationCode={code}&withCustomData=true")).await.json().await.unwrap();
        assert_eq!(org, &one["data"], "{code}");
    }
    assert_eq!(list[1]["customData"], json!({ "tier": "gold" }));
    assert_eq!(list[1]["organizationName"], "Acme");
    assert_eq!(list[1]["departmentId"], id(&acme["rootNode"]).as_str());
    // As the Python SDK sends it (a repeated key, a bearer token), without custom data.
    let r = c.get("/api/v3/get-organization-batch?organizationCodeList=acme&organizationCodeList=gamma").await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().iter().map(|o| o["organizationName"].as_str().unwrap()).collect::<Vec<_>>(), ["Acme", "Gamma"], "{body}");
    assert!(body["data"][0]["customData"].is_null(), "custom data only when asked: {body}");
    // No list, or another pool's token: nothing of this pool.
    let r = c.get("/api/v3/get-organization-batch").await;
    assert_eq!(r.status(), 400);
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;
    let body: Value = b.get("/api/v3/get-organization-batch?organizationCodeList[]=acme").await.json().await.unwrap();
    assert_eq!(body["data"], json!([]), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn update_department_status_disables_and_enables_the_department() {
    use crate::orgs::{add_node, create_org, id};
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme").await;
    let sales = id(&add_node(&c, &id(&org), &id(&org["rootNode"]), "Sales", Some("sales")).await);
    let enabled = |node: String| {
        let c = c.clone();
        async move { c.data("query($id: String!) { nodeById(id: $id) { enabled } }", json!({ "id": node })).await["nodeById"]["enabled"].clone() }
    };
    let v3_status = |node: String| {
        let c = c.clone();
        async move {
            let body: Value = c.get(&format!("/api/v3/get-department?organizationCode=acme&departmentId={node}")).await.json().await.unwrap();
            body["data"]["status"].clone()
        }
    };
    assert_eq!((enabled(sales.clone()).await, v3_status(sales.clone()).await), (json!(true), json!(true)));

    // authing-node-sdk's updateNodeStatus body: {departmentId, status}.
    let r = c.post_json("/api/v3/update-department-status", json!({ "departmentId": sales, "status": false })).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!((body["statusCode"].clone(), body["data"]["departmentId"].clone(), body["data"]["status"].clone()), (json!(200), json!(sales), json!(false)), "{body}");
    assert_eq!((enabled(sales.clone()).await, v3_status(sales.clone()).await), (json!(false), json!(false)), "read back disabled");
    let children: Value = c.get("/api/v3/list-children-departments?organizationCode=acme&departmentId=root&status=true").await.json().await.unwrap();
    assert_eq!(children["data"]["list"], json!([]), "left out of the enabled children: {children}");
    let children: Value = c.get("/api/v3/list-children-departments?organizationCode=acme&departmentId=root&status=false").await.json().await.unwrap();
    assert_eq!(children["data"]["list"][0]["departmentId"], sales.as_str(), "one of the disabled ones: {children}");
    let ev = c.data("{ events(eventNames: [\"organization:node-updated\"]) { data } }", json!({})).await;
    assert_eq!(ev["events"].as_array().unwrap().len(), 1, "one change, one event: {ev}");

    let r = c.post_json("/api/v3/update-department-status", json!({ "departmentId": sales, "status": true })).await;
    assert_eq!(r.status(), 200);
    assert_eq!((enabled(sales.clone()).await, v3_status(sales.clone()).await), (json!(true), json!(true)), "read back enabled");

    // Refused without a change: no status, an unknown department, another pool's token.
    let r = c.post_json("/api/v3/update-department-status", json!({ "departmentId": sales })).await;
    assert_eq!(r.status(), 400);
    let r = c.post_json("/api/v3/update-department-status", json!({ "departmentId": "nope", "status": false })).await;
    assert_eq!(r.status(), 404);
    let (pool_b, secret_b) = s.new_pool("B").await;
    let b = s.client_for(&pool_b, &secret_b).await;
    let r = b.post_json("/api/v3/update-department-status", json!({ "departmentId": sales, "status": false })).await;
    assert_eq!(r.status(), 404);
    assert_eq!(enabled(sales.clone()).await, json!(true), "unchanged");
}
