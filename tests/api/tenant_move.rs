//! A whole tenant moved between servers with `orgraph export` / `orgraph import`: besides the
//! company, the pool's permission namespaces, resources and grants, its webhooks and its custom
//! event types. The imported pool answers permission checks, webhook and event type listings as
//! the source did (JSON and CSV); a webhook's deliveries verify with the old secret only when it
//! was exported with `--with-webhook-secrets` (else with the new one the import printed);
//! `--new-ids` remaps the grants' targets; a pool that already has a conflicting row refuses the
//! whole file before anything is written.

use std::collections::HashMap;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use orgraph::{delivery::sign::signature, domain::webhooks::secret::signing_key};
use serde_json::{Value, json};

use crate::{
    harness::{Client, TestServer, wait_for_value},
    orgs::id,
    tools::{ok, orgraph},
    users::create,
    webhooks::{Receiver, receiver},
};

const AUTHORIZE: &str = "mutation($ns: String, $r: String, $opts: [AuthorizeResourceOpt]) {
    authorizeResource(namespace: $ns, resource: $r, opts: $opts) { code message } }";

/// A server whose webhooks may deliver to loopback receivers, quickly; `pool`: its first pool's id.
async fn server(pool: Option<String>) -> TestServer {
    TestServer::start_with(move |c| {
        c.webhooks.allow_hosts = vec!["127.0.0.1".into()];
        c.webhooks.poll_ms = 50;
        if pool.is_some() {
            c.bootstrap_pool_id = pool;
        }
    })
    .await
}

async fn v2(c: &Client, path: &str, body: Value) -> Value {
    let res: Value = c.post_json(path, body.clone()).await.json().await.expect("JSON");
    assert_eq!(res["code"], 200, "{path} {body}: {res}");
    res["data"].clone()
}

async fn get(c: &Client, path: &str) -> Value {
    let res: Value = c.get(path).await.json().await.expect("JSON");
    assert!(res["code"] == 200 || res["statusCode"] == 200, "{path}: {res}");
    res["data"].clone()
}

/// The secret the first webhook signs with in the source pool.
fn old_secret() -> String {
    format!("whsec_{}", STANDARD.encode([5u8; 32]))
}

/// A tenant: an org (root, Sales, Sales/East), three users, memberships; an event app with two
/// custom types; namespace `books-ns` with a resource, the default namespace with another; grants
/// to a user, to a node (inherited below it), with `code:*` and `*` actions; two webhooks (one on
/// a custom type, one disabled and form-encoded). Its users and departments: id → name.
async fn tenant(c: &Client, pool: &str, hook_url: &str) -> HashMap<String, String> {
    let mut names = HashMap::new();
    let org = c.data(r#"mutation { createOrg(name: "Acme", code: "acme") { id rootNode { id } } }"#, json!({})).await["createOrg"].clone();
    let (org_id, root) = (id(&org), org["rootNode"]["id"].as_str().unwrap().to_string());
    let add = async |parent: &str, name: &str| {
        let q = "mutation($o: String!, $p: String, $n: String!) { addNodeV2(orgId: $o, parentNodeId: $p, name: $n, code: $n) { id } }";
        id(&c.data(q, json!({ "o": org_id, "p": parent, "n": name })).await["addNodeV2"])
    };
    let sales = add(&root, "sales").await;
    let east = add(&sales, "east").await;
    for (n, name) in [(&root, "acme"), (&sales, "sales"), (&east, "east")] {
        names.insert(n.clone(), format!("node:{name}"));
    }
    let mut users = Vec::new();
    for name in ["ann", "bob", "cid"] {
        let u = id(&create(c, json!({ "username": name, "email": format!("{name}@example.com") })).await);
        names.insert(u.clone(), format!("user:{name}"));
        users.push(u);
    }
    let member = "mutation($n: String, $u: [String!]!) { addMember(nodeId: $n, userIds: $u) { id } }";
    c.data(member, json!({ "n": east, "u": [users[0]] })).await;
    c.data(member, json!({ "n": sales, "u": [users[1]] })).await;

    let v3 = async |path: &str, body: Value| {
        let res: Value = c.post_json(path, body.clone()).await.json().await.expect("JSON");
        assert_eq!(res["statusCode"], 200, "{path}: {res}");
    };
    v3("/api/v3/create-event-app", json!({ "identifier": "crm", "name": "CRM", "logo": "https://crm.example.com/logo.png" })).await;
    v3("/api/v3/define-event", json!({ "eventType": "crm.lead.won", "eventDescription": "A lead was won" })).await;
    v3("/api/v3/define-event", json!({ "eventType": "crm.lead.lost", "eventDescription": "A lead was lost" })).await;

    v2(c, &format!("/api/v2/resource-namespace/{pool}"), json!({ "code": "books-ns", "name": "Books", "description": "the library" })).await;
    v2(c, "/api/v2/resources", json!({ "namespace": "books-ns", "code": "books", "type": "DATA", "description": "All books",
        "actions": [{ "name": "books:read", "description": "read" }, { "name": "books:write" }], "apiIdentifier": "https://api/books" })).await;
    v2(c, "/api/v2/resources", json!({ "code": "reports", "type": "MENU", "actions": [{ "name": "reports:view" }] })).await;
    let grant = async |ns: Option<&str>, resource: &str, target_type: &str, target: &str, actions: Value| {
        let opts = json!([{ "targetType": target_type, "targetIdentifier": target, "actions": actions }]);
        let d = c.data(AUTHORIZE, json!({ "ns": ns, "r": resource, "opts": opts })).await;
        assert_eq!(d["authorizeResource"]["code"], 200, "{d}");
    };
    grant(Some("books-ns"), "books:1", "USER", &users[2], json!(["books:read"])).await;
    grant(Some("books-ns"), "books", "ORG", &sales, json!(["books:*"])).await;
    grant(Some("books-ns"), "books:7", "ORG", &east, json!(["books:read", "books:write"])).await;
    grant(None, "reports", "USER", &users[0], json!(["*"])).await;

    let hook = "mutation($n: String!, $u: String!, $s: String, $t: WebhookContentType, $e: [String!]!, $on: Boolean) {
        createWebhook(name: $n, url: $u, secret: $s, contentType: $t, events: $e, enabled: $on) { id } }";
    c.data(hook, json!({ "n": "crm", "u": hook_url, "s": old_secret(), "e": ["user:created", "crm.lead.won"] })).await;
    c.data(hook, json!({ "n": "archive", "u": "https://archive.example.com/in", "t": "FORM", "e": ["user:deleted"], "on": false })).await;
    names
}

/// Removes `keys` everywhere in `v`.
fn strip(v: &mut Value, keys: &[&str]) {
    match v {
        Value::Object(o) => {
            for k in keys {
                o.remove(*k);
            }
            o.values_mut().for_each(|v| strip(v, keys));
        }
        Value::Array(a) => a.iter_mut().for_each(|v| strip(v, keys)),
        _ => {}
    }
}

/// Every id of `names` found as a string in `v`, replaced by its name.
fn rename(v: &mut Value, names: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(n) = names.get(s.as_str()) {
                *s = n.clone();
            }
        }
        Value::Object(o) => o.values_mut().for_each(|v| rename(v, names)),
        Value::Array(a) => a.iter_mut().for_each(|v| rename(v, names)),
        _ => {}
    }
}

/// What the pool answers about its permissions, webhooks and event types, for every user and
/// department of `names` (by id; the answer names them by name). With `ids`, the ids of
/// resources and webhooks are part of it; namespace ids never are (each server numbers them).
async fn answers(c: &Client, pool: &str, names: &HashMap<String, String>, ids: bool) -> Value {
    let mut out = json!({});
    let mut by_name: Vec<(&String, &String)> = names.iter().map(|(id, name)| (name, id)).collect();
    by_name.sort();
    let checks = [
        ("books-ns", "books:1", "books:read"), ("books-ns", "books:1", "books:write"), ("books-ns", "books:2", "books:write"),
        ("books-ns", "books:7", "books:write"), ("books-ns", "pens:1", "books:read"), ("default", "reports", "reports:view"),
        ("default", "reports", "anything"), ("default", "books:1", "books:read"),
    ];
    for (name, id) in &by_name {
        if name.starts_with("user:") {
            let q = "query($r: String!, $a: String!, $u: String!, $ns: String) { isActionAllowed(resource: $r, action: $a, userId: $u, namespace: $ns) }";
            let mut allowed = Vec::new();
            for (ns, r, a) in checks {
                allowed.push(c.data(q, json!({ "r": r, "a": a, "u": id, "ns": ns })).await["isActionAllowed"].clone());
            }
            out[format!("{name} allowed")] = Value::Array(allowed);
            for ns in ["books-ns", "default"] {
                let q = "query($id: String, $ns: String) { user(id: $id) { authorizedResources(namespace: $ns) { totalCount list { code type actions apiIdentifier } } } }";
                out[format!("{name} resources in {ns}")] = c.data(q, json!({ "id": id, "ns": ns })).await["user"]["authorizedResources"].clone();
            }
        } else {
            let q = "query($id: String, $ns: String) { authorizedResources(targetType: ORG, targetIdentifier: $id, namespace: $ns) { totalCount list { code type actions } } }";
            out[format!("{name} resources")] = c.data(q, json!({ "id": id, "ns": "books-ns" })).await["authorizedResources"].clone();
        }
    }
    for (ns, r) in [("books-ns", "books"), ("books-ns", "books:1"), ("books-ns", "books:7"), ("default", "reports")] {
        let q = "query($ns: String!, $r: String!) { authorizedTargets(namespace: $ns, resource: $r, resourceType: DATA) { totalCount list { targetType targetIdentifier actions } } }";
        out[format!("targets of {r}")] = c.data(q, json!({ "ns": ns, "r": r })).await["authorizedTargets"].clone();
    }
    out["namespaces"] = get(c, &format!("/api/v2/resource-namespace/{pool}")).await;
    out["resources"] = get(c, "/api/v2/resources?limit=50").await;
    out["webhooks"] = c.data("{ webhooks { id name url events enabled contentType hasSecret consecutiveFailures createdAt } }", json!({})).await["webhooks"].clone();
    out["event apps"] = get(c, "/api/v3/list-event-apps").await;
    out["event types"] = get(c, "/api/v3/list-events").await;
    rename(&mut out, names);
    strip(&mut out, &["userPoolId", "namespaceId"]);
    strip(&mut out["namespaces"], &["id"]);
    if !ids {
        for part in ["resources", "webhooks", "event apps", "event types"] {
            strip(&mut out[part], &["id"]);
        }
    }
    out
}

/// The ids and names of the pool's users and departments, as `tenant` names them.
async fn names_in(c: &Client) -> HashMap<String, String> {
    let mut names = HashMap::new();
    let d = c.data("{ users(page: 1, limit: 50) { list { id username } } orgs(page: 1, limit: 10) { list { nodes { id code } } } }", json!({})).await;
    for u in d["users"]["list"].as_array().unwrap() {
        names.insert(u["id"].as_str().unwrap().to_string(), format!("user:{}", u["username"].as_str().unwrap()));
    }
    for org in d["orgs"]["list"].as_array().unwrap() {
        for n in org["nodes"].as_array().unwrap() {
            names.insert(n["id"].as_str().unwrap().to_string(), format!("node:{}", n["code"].as_str().unwrap()));
        }
    }
    names
}

/// Create a user named `name` on `c`'s server and wait for the `user:created` delivery that
/// names it at `r`; its `(webhook-id, webhook-timestamp, webhook-signature, body)`.
async fn delivery_of_new_user(c: &Client, r: &Receiver, name: &str) -> (String, i64, String, String) {
    create(c, json!({ "username": name })).await;
    wait_for_value(&format!("the user:created delivery of {name}"), || async {
        let got = r.got.lock().unwrap().clone();
        got.iter().find(|g| g.body.contains(&format!("\"{name}\""))).map(|g| {
            let h = |n: &str| g.headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            (h("webhook-id"), h("webhook-timestamp").parse().unwrap_or(0), h("webhook-signature"), g.body.clone())
        })
    })
    .await
}

/// A SCIM request that must succeed; its answer.
async fn scim(s: &TestServer, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut req = reqwest::Client::new().request(method, format!("{}/scim/v2{path}", s.url)).bearer_auth(token);
    if let Some(b) = body {
        req = req.header("content-type", "application/scim+json").body(b.to_string());
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

/// The secrets an import printed: webhook id → secret.
fn printed_secrets(stdout: &str) -> HashMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("webhook ")?;
            let id = rest.split('\t').next()?;
            Some((id.to_string(), l.rsplit_once("new secret: ")?.1.to_string()))
        })
        .collect()
}

#[tokio::test]
async fn a_tenant_moves_whole_with_permissions_webhooks_and_event_types_in_json_and_csv() {
    let (r, url) = receiver(&[]).await;
    let s = server(None).await;
    let c = s.admin().await;
    let names = tenant(&c, &s.pool_id, &url).await;
    let before = answers(&c, &s.pool_id, &names, true).await;
    assert_eq!(before["user:cid allowed"], json!([true, false, false, false, false, false, false, false]), "{before}");
    assert_eq!(before["user:ann allowed"], json!([true, true, true, true, false, true, true, false]), "{before}");
    assert_eq!(before["webhooks"].as_array().map(Vec::len), Some(2));
    let crm_hook = before["webhooks"][0]["id"].as_str().unwrap().to_string();
    // A department an identity provider made as a SCIM group, with its externalId.
    let pool = s.pool().await;
    let old_token = s.state.scim_tokens.create(&pool, "idp").await.unwrap().secret;
    let group = scim(&s, &old_token, reqwest::Method::POST, "/Groups", Some(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Guild", "externalId": "entra-guild-7" }))).await;
    let group = group["id"].as_str().unwrap().to_string();

    let dir = tempfile::tempdir().unwrap();
    for (format, secrets) in [("json", true), ("csv", false), ("json", false), ("csv", true)] {
        let path = dir.path().join(format!("{format}-{secrets}{}", if format == "json" { ".json" } else { "" }));
        let path = path.to_str().unwrap();
        let mut args = vec!["export", "--pool", &s.pool_id, "--with-password-hashes"];
        if secrets {
            args.push("--with-webhook-secrets");
        }
        args.push(path);
        let stderr = ok(&s, &args).await;
        assert!(stderr.contains("1 event apps, 2 event types, 2 permission namespaces, 2 resources, 4 grants, 2 webhooks"), "{stderr}");
        assert_eq!(stderr.contains("signing secrets are not in the file"), !secrets, "{stderr}");
        if format == "csv" {
            for f in ["acl_namespaces.csv", "acl_resources.csv", "acl_grants.csv", "webhooks.csv", "event_apps.csv", "event_types.csv"] {
                assert!(std::path::Path::new(path).join(f).exists(), "{f} written");
            }
        }

        // Another server, the same pool id: every id is kept.
        let t = server(Some(s.pool_id.clone())).await;
        let out = orgraph(&t, &["import", "--pool", &t.pool_id, path]).await;
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string());
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("1 event apps, 2 event types, 2 permission namespaces, 2 resources, 4 grants, 2 webhooks, 0 scheduled batches; skipped"), "{stderr}");
        let tc = t.admin().await;
        assert_eq!(answers(&tc, &t.pool_id, &names, true).await, before, "{format}, secrets {secrets}");
        // The group keeps its externalId; SCIM tokens are credentials and stay behind.
        let res = reqwest::Client::new().get(format!("{}/scim/v2/Groups/{group}", t.url)).bearer_auth(&old_token).send().await.unwrap();
        assert_eq!(res.status(), 401, "the old server's SCIM token does not open the new one");
        let t_pool = t.pool().await;
        let token = t.state.scim_tokens.create(&t_pool, "idp").await.unwrap().secret;
        assert_eq!(scim(&t, &token, reqwest::Method::GET, &format!("/Groups/{group}"), None).await["externalId"], "entra-guild-7");

        // A delivery from the new server: signed with the old secret only when it moved.
        let (id, ts, sig, body) = delivery_of_new_user(&tc, &r, &format!("new-{format}-{secrets}")).await;
        let with_old = signature(&signing_key(&old_secret()), &id, ts, &body);
        let printed = printed_secrets(&stdout);
        if secrets {
            assert_eq!(sig, with_old, "the receiver verifies with the secret it had");
            assert!(printed.is_empty(), "{stdout}");
        } else {
            assert_ne!(sig, with_old, "the old secret did not move");
            let new = printed.get(&crm_hook).unwrap_or_else(|| panic!("the new secret of {crm_hook} is printed: {stdout}"));
            assert_eq!(sig, signature(&signing_key(new), &id, ts, &body), "the printed secret verifies");
            assert!(stderr.contains("got a new one") && stderr.contains("give each to its receiver"), "{stderr}");
            assert_eq!(printed.len(), 2, "each webhook got one: {stdout}");
        }

        // Again: nothing more, nothing changed.
        let stderr = ok(&t, &["import", "--pool", &t.pool_id, path]).await;
        assert!(stderr.contains("created 0 departments, 0 users, 0 memberships, 0 event apps, 0 event types, 0 permission namespaces, 0 resources, 0 grants, 0 webhooks"), "{stderr}");
        assert_eq!(answers(&tc, &t.pool_id, &names, true).await, before);
    }
}

#[tokio::test]
async fn an_import_stopped_inside_the_pool_state_is_finished_by_running_it_again() {
    let (_r, url) = receiver(&[]).await;
    let s = server(None).await;
    let c = s.admin().await;
    let names = tenant(&c, &s.pool_id, &url).await;
    let before = answers(&c, &s.pool_id, &names, true).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    let path = file.to_str().unwrap();
    ok(&s, &["export", "--pool", &s.pool_id, "--with-webhook-secrets", path]).await;

    let t = server(Some(s.pool_id.clone())).await;
    // 8 rows of the company, then 1 event app, 2 types, 2 namespaces, 2 resources, 4 grants and
    // 2 webhooks, in batches of 2: stop inside each of those kinds in turn.
    for limit in ["10", "14", "17", "20"] {
        let stderr = ok(&t, &["import", "--pool", &t.pool_id, "--batch-size", "2", "--limit", limit, path]).await;
        assert!(stderr.contains("stopped at --limit"), "{stderr}");
    }
    let stderr = ok(&t, &["import", "--pool", &t.pool_id, "--batch-size", "2", path]).await;
    assert!(stderr.contains("0 grants, 1 webhooks, 0 scheduled batches; skipped (already there)") && stderr.contains("4 grants, 1 webhooks, 0 scheduled batches; refused 0"), "{stderr}");
    let tc = t.admin().await;
    assert_eq!(answers(&tc, &t.pool_id, &names, true).await, before);
    let after = dir.path().join("after.json");
    ok(&t, &["export", "--pool", &t.pool_id, "--with-webhook-secrets", after.to_str().unwrap()]).await;
    let raw = |p: &std::path::Path| serde_json::from_slice::<Value>(&std::fs::read(p).unwrap()).unwrap();
    assert_eq!(raw(&after), raw(&file), "the same rows, ids, times and secrets");
}

#[tokio::test]
async fn an_import_with_new_ids_remaps_grants_to_the_new_users_and_departments() {
    let (_r, url) = receiver(&[]).await;
    let s = server(None).await;
    let c = s.admin().await;
    let names = tenant(&c, &s.pool_id, &url).await;
    let before = answers(&c, &s.pool_id, &names, false).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    ok(&s, &["export", "--pool", &s.pool_id, file.to_str().unwrap()]).await;

    // A second pool of the same server: the file's ids are taken, so every row gets a new one.
    let (pool, secret) = s.new_pool("copy").await;
    let refused = orgraph(&s, &["import", "--pool", &pool, file.to_str().unwrap()]).await;
    assert!(!refused.status.success(), "kept ids of another pool are refused");
    let out = orgraph(&s, &["import", "--pool", &pool, "--new-ids", file.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let copy = s.client_for(&pool, &secret).await;
    let copied = names_in(&copy).await;
    assert_eq!(copied.len(), names.len());
    assert!(copied.keys().all(|id| !names.contains_key(id)), "new ids");
    assert_eq!(answers(&copy, &pool, &copied, false).await, before, "the same answers for the new users and departments");

    // The grants name the new ids, and their own ids are new.
    let again = dir.path().join("copy.json");
    ok(&s, &["export", "--pool", &pool, again.to_str().unwrap()]).await;
    let read = |p: &std::path::Path| serde_json::from_slice::<Value>(&std::fs::read(p).unwrap()).unwrap();
    let (old, new) = (read(&file), read(&again));
    let targets = |doc: &Value| doc["aclGrants"].as_array().unwrap().iter().map(|g| g["targetId"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(targets(&new).len(), 4);
    assert!(targets(&new).iter().all(|t| copied.contains_key(t)), "{:?}", targets(&new));
    let renamed = |doc: &Value, names: &HashMap<String, String>| {
        let mut t = targets(doc);
        t.iter_mut().for_each(|id| *id = names[id.as_str()].clone());
        t.sort();
        t
    };
    assert_eq!(renamed(&new, &copied), renamed(&old, &names));
    for table in ["aclGrants", "aclResources", "webhooks", "eventApps", "eventTypes"] {
        let ids = |doc: &Value| doc[table].as_array().unwrap().iter().map(|r| r["id"].clone()).collect::<Vec<_>>();
        assert!(ids(&new).iter().all(|id| !ids(&old).contains(id)), "{table}: new ids");
    }

    // Again with --new-ids: every row is found by its natural key and skipped.
    let stderr = ok(&s, &["import", "--pool", &pool, "--new-ids", file.to_str().unwrap()]).await;
    assert!(stderr.contains("created 0 departments, 0 users, 0 memberships, 0 event apps, 0 event types, 0 permission namespaces, 0 resources, 0 grants, 0 webhooks"), "{stderr}");
}

#[tokio::test]
async fn an_import_that_conflicts_with_the_pool_is_refused_before_anything_is_written() {
    let (_r, url) = receiver(&[]).await;
    let s = server(None).await;
    let c = s.admin().await;
    tenant(&c, &s.pool_id, &url).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    ok(&s, &["export", "--pool", &s.pool_id, "--with-webhook-secrets", file.to_str().unwrap()]).await;
    let csv = dir.path().join("csv");
    ok(&s, &["export", "--pool", &s.pool_id, csv.to_str().unwrap()]).await;

    for (path, case) in [(&file, "namespace"), (&csv, "webhook")] {
        let t = server(Some(s.pool_id.clone())).await;
        let tc = t.admin().await;
        let expected = match case {
            // The same code with another name.
            "namespace" => {
                v2(&tc, &format!("/api/v2/resource-namespace/{}", t.pool_id), json!({ "code": "books-ns", "name": "Other books" })).await;
                "the pool already has a namespace of code \"books-ns\""
            }
            // A webhook of the pool with the same name and URL: the file's would deliver twice.
            _ => {
                let q = "mutation($u: String!) { createWebhook(name: \"crm\", url: $u, events: [\"user:created\"]) { id } }";
                tc.data(q, json!({ "u": url })).await;
                "importing this one too would deliver every event twice"
            }
        };
        let before = answers(&tc, &t.pool_id, &HashMap::new(), true).await;
        let out = orgraph(&t, &["import", "--pool", &t.pool_id, path.to_str().unwrap()]).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{case}: {stderr}");
        assert!(stderr.contains(expected) && stderr.contains("nothing was written"), "{case}: {stderr}");
        assert_eq!(answers(&tc, &t.pool_id, &HashMap::new(), true).await, before, "{case}: nothing changed");
        let d = tc.data("{ users(page: 1, limit: 10) { totalCount } orgs(page: 1, limit: 10) { totalCount } }", json!({})).await;
        assert_eq!((d["users"]["totalCount"].as_i64(), d["orgs"]["totalCount"].as_i64()), (Some(0), Some(0)), "{case}: no user or org written");
    }

    // A webhook of the pool with the file's id but another URL is a conflict too.
    let t = server(Some(s.pool_id.clone())).await;
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    doc["webhooks"][0]["url"] = json!("https://elsewhere.example.com/hook");
    let changed = dir.path().join("changed.json");
    std::fs::write(&changed, doc.to_string()).unwrap();
    ok(&t, &["import", "--pool", &t.pool_id, changed.to_str().unwrap()]).await;
    let out = orgraph(&t, &["import", "--pool", &t.pool_id, file.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("with another url, name, events"), "{stderr}");
}

#[tokio::test]
async fn bad_rows_of_the_pool_state_are_refused_with_where_they_are() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("csv");
    std::fs::create_dir_all(&csv).unwrap();
    let files = [
        ("event_apps.csv", "id,identifier,name\na1,crm,CRM\na2,crm,CRM again\n"),
        ("event_types.csv", "id,eventType,description\nt1,noapp,no dot\n"),
        ("acl_namespaces.csv", "code,name\nbooks-ns,Books\n"),
        ("acl_resources.csv", "id,namespace,code,type,actions\nr1,books-ns,user,DATA,[]\nr2,books-ns,books,PAPER,[]\nr3,books-ns,pens,DATA,\"[{\"\"name\"\":\"\"pens:use\"\"}]\"\n"),
        ("acl_grants.csv", "id,namespace,resource,targetType,targetId,actions\ng1,books-ns,books,ROLE,u1,\"[\"\"books:read\"\"]\"\ng2,books-ns,pens,USER,u1,not json\n"),
        ("webhooks.csv", "id,name,url,events\nw1,crm,ftp://crm.example.com,\"[\"\"user:created\"\"]\"\n"),
    ];
    for (f, text) in files {
        std::fs::write(csv.join(f), text).unwrap();
    }
    let out = orgraph(&s, &["import", "--pool", &s.pool_id, csv.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    for needle in [
        "event_apps.csv:3: identifier \"crm\" is also the identifier of the event app at event_apps.csv:2",
        "event_types.csv:2: ",
        "acl_resources.csv:2: ",
        "reserved resource code",
        "acl_resources.csv:3: ",
        "acl_grants.csv:2: targetType must be USER or ORG",
        "acl_grants.csv:3: actions is not valid JSON",
        "webhooks.csv:2: ",
        "7 of 10 rows refused; nothing was written",
    ] {
        assert!(stderr.contains(needle), "{needle:?} in {stderr}");
    }
    let c = s.admin().await;
    assert_eq!(get(&c, &format!("/api/v2/resource-namespace/{}", s.pool_id)).await["totalCount"], 0, "no namespace written");
    assert_eq!(get(&c, "/api/v3/list-event-apps").await["totalCount"], 0, "no event app written");
}

/// The preview an hour and a half ahead: each department's name, its parent's name, and the
/// usernames of its members.
async fn planned_tree(c: &Client, org_id: &str) -> Vec<(String, String, Vec<String>)> {
    let at = (chrono::Utc::now() + chrono::Duration::minutes(150)).to_rfc3339();
    let d = c.data("query($o: String!, $at: String) { org(id: $o, asOf: $at) { planned nodes { id name parentId users { list { username } } } } }", json!({ "o": org_id, "at": at })).await;
    assert_eq!(d["org"]["planned"], true, "{d}");
    let nodes = d["org"]["nodes"].as_array().unwrap().clone();
    let name_of = |id: &Value| nodes.iter().find(|n| n["id"] == *id).map_or("-".to_string(), |n| n["name"].as_str().unwrap().to_string());
    let mut out: Vec<_> = nodes
        .iter()
        .map(|n| {
            let users = n["users"]["list"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_string()).collect();
            (n["name"].as_str().unwrap().to_string(), name_of(&n["parentId"]), users)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn pending_scheduled_batches_move_with_the_tenant_and_are_renamed_with_new_ids() {
    let s = server(None).await;
    let c = s.admin().await;
    let d = c.data("mutation { createOrg(name: \"Acme\", code: \"acme\") { id rootNode { id } } }", json!({})).await;
    let (org_id, root) = (d["createOrg"]["id"].as_str().unwrap().to_string(), d["createOrg"]["rootNode"]["id"].as_str().unwrap().to_string());
    let add = "mutation($o: String!, $p: String, $n: String!, $c: String) { addNodeV2(orgId: $o, parentNodeId: $p, name: $n, code: $c) { id } }";
    let sales = c.data(add, json!({ "o": org_id, "p": root, "n": "Sales", "c": "sales" })).await["addNodeV2"]["id"].as_str().unwrap().to_string();
    let ops = c.data(add, json!({ "o": org_id, "p": root, "n": "Ops", "c": "ops" })).await["addNodeV2"]["id"].as_str().unwrap().to_string();
    let ann = create(&c, json!({ "username": "ann" })).await["id"].as_str().unwrap().to_string();
    c.data("mutation($n: String!, $u: String!) { addMember(nodeId: $n, userIds: [$u]) { id } }", json!({ "n": sales, "u": ann })).await;
    let schedule = "mutation($at: String!, $changes: [OrgChangeInput!]!) { scheduleChanges(at: $at, changes: $changes) { id createdNodes { id } } }";
    let at = |minutes: i64| (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339();
    // Departments, the organization and a user named by id; the second batch names the
    // department the first adds by the id it was given.
    let first = c
        .data(schedule, json!({ "at": at(60), "changes": [
            { "addNode": { "orgId": org_id, "parentNodeId": root, "name": "EMEA", "code": "emea" } },
            { "moveNode": { "nodeId": sales, "parentCode": "emea" } },
            { "moveMembers": { "userIds": [ann], "sourceNodeId": sales, "targetNodeId": ops } },
        ] }))
        .await["scheduleChanges"]
        .clone();
    let emea = first["createdNodes"][0]["id"].as_str().unwrap().to_string();
    c.data(schedule, json!({ "at": at(120), "changes": [{ "updateNode": { "id": emea, "name": "Europe" } }] })).await;
    let cancelled = c.data(schedule, json!({ "at": at(90), "changes": [{ "deleteNode": { "nodeId": ops } }] })).await["scheduleChanges"]["id"].as_str().unwrap().to_string();
    c.data("mutation($id: String!) { cancelScheduledChanges(id: $id) { status } }", json!({ "id": cancelled })).await;
    let expected = vec![
        ("Acme".to_string(), "-".to_string(), vec![]),
        ("Europe".into(), "Acme".into(), vec![]),
        ("Ops".into(), "Acme".into(), vec!["ann".to_string()]),
        ("Sales".into(), "Europe".into(), vec![]),
    ];
    assert_eq!(planned_tree(&c, &org_id).await, expected);
    let listed = "query { scheduledChanges(status: PENDING) { id at createdBy createdNodes { code id } } }";
    let pending = c.data(listed, json!({})).await["scheduledChanges"].clone();
    assert_eq!(pending.as_array().map(Vec::len), Some(2));

    let dir = tempfile::tempdir().unwrap();
    for format in ["json", "csv"] {
        let path = dir.path().join(if format == "json" { "t.json" } else { "t" });
        let path = path.to_str().unwrap();
        let stderr = ok(&s, &["export", "--pool", &s.pool_id, path]).await;
        assert!(stderr.contains("2 pending scheduled batches"), "{stderr}");
        // Another server, ids kept: the same pending batches, the same plan; once only.
        let t = server(Some(s.pool_id.clone())).await;
        let stderr = ok(&t, &["import", "--pool", &t.pool_id, path]).await;
        assert!(stderr.contains("2 scheduled batches"), "{stderr}");
        let tc = t.admin().await;
        assert_eq!(tc.data(listed, json!({})).await["scheduledChanges"], pending, "{format}");
        assert_eq!(planned_tree(&tc, &org_id).await, expected, "{format}");
        ok(&t, &["import", "--pool", &t.pool_id, path]).await;
        assert_eq!(tc.data(listed, json!({})).await["scheduledChanges"], pending, "{format}: imported once");
    }

    // A second pool of the same server, with new ids: the batches name the new departments,
    // organization and user, and the department they add gets a new id too.
    let file = dir.path().join("t.json");
    let (pool, secret) = s.new_pool("copy").await;
    ok(&s, &["import", "--pool", &pool, "--new-ids", file.to_str().unwrap()]).await;
    let copy = s.client_for(&pool, &secret).await;
    let copied = copy.data(listed, json!({})).await["scheduledChanges"].clone();
    assert_eq!(copied.as_array().map(Vec::len), Some(2));
    assert!(copied.as_array().unwrap().iter().all(|b| pending.as_array().unwrap().iter().all(|p| p["id"] != b["id"])), "new batch ids");
    assert_ne!(copied[0]["createdNodes"][0]["id"], emea.as_str());
    let new_org = copy.data("query { orgs(page: 1, limit: 10) { list { id } } }", json!({})).await["orgs"]["list"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(new_org, org_id);
    assert_eq!(planned_tree(&copy, &new_org).await, expected);
}
