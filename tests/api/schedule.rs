//! Scheduled reorganizations: a batch is checked when scheduled, listed, cancellable while
//! pending, applied at its time as one transaction with the usual events, failed as a whole
//! (with its reason and an event) when it no longer applies, and applied once however many
//! instances share the database.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Client, TestServer, skipped_on_sqlite, wait_for_value};

const SCHEDULE: &str = "mutation($at: String!, $changes: [OrgChangeInput!]!) { scheduleChanges(at: $at, changes: $changes) {
    id at status error createdBy createdNodes { code id } } }";
const LIST: &str = "query($s: ScheduledChangesStatus) { scheduledChanges(status: $s) { id status error createdNodes { code id } } }";

fn soon(ms: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::milliseconds(ms)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn org(c: &Client, code: &str) -> (String, String) {
    let d = c.data("mutation($c: String) { createOrg(name: \"Acme\", code: $c) { id rootNode { id } } }", json!({ "c": code })).await;
    (d["createOrg"]["id"].as_str().expect("id").into(), d["createOrg"]["rootNode"]["id"].as_str().expect("root").into())
}

async fn node(c: &Client, org: &str, parent: &str, name: &str, code: &str) -> String {
    let d = c
        .data(
            "mutation($o: String!, $p: String, $n: String!, $c: String) { addNodeV2(orgId: $o, parentNodeId: $p, name: $n, code: $c) { id } }",
            json!({ "o": org, "p": parent, "n": name, "c": code }),
        )
        .await;
    d["addNodeV2"]["id"].as_str().expect("id").into()
}

/// The batch `id` once it is no longer pending.
async fn settled(c: &Client, id: &str) -> Value {
    wait_for_value(&format!("batch {id} settled"), || async {
        let d = c.data(LIST, json!({ "s": null })).await;
        d["scheduledChanges"].as_array().and_then(|l| l.iter().find(|b| b["id"] == id && b["status"] != "PENDING").cloned())
    })
    .await
}

async fn events_named(c: &Client, name: &str) -> Vec<Value> {
    let d = c.data("query($n: [String!]) { events(eventNames: $n, first: 1000) { eventName data } }", json!({ "n": [name] })).await;
    d["events"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_batch_is_checked_now_applied_at_its_time_and_names_the_departments_it_adds() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let (org_id, root) = org(&c, "sched").await;
    let sales = node(&c, &org_id, &root, "Sales", "sales").await;
    let ann = c.data("mutation { createUser(userInfo: { username: \"ann\" }) { id } }", json!({})).await["createUser"]["id"].as_str().unwrap().to_string();
    c.data("mutation($n: String!, $u: String!) { addMember(nodeId: $n, userIds: [$u]) { id } }", json!({ "n": sales, "u": ann })).await;

    // Refused now, and nothing stored: the second change names a department that does not exist.
    let bad = json!([{ "addNode": { "orgId": org_id, "name": "EMEA", "code": "emea" } }, { "moveNode": { "nodeCode": "nope", "parentCode": "emea" } }]);
    let (code, message) = c.error(SCHEDULE, json!({ "at": soon(60_000), "changes": bad })).await;
    assert!(code != "<none>" && message.contains("change 2 (moveNode)"), "{code}: {message}");
    let (_, message) = c.error(SCHEDULE, json!({ "at": soon(60_000), "changes": [{ "deleteNode": { "nodeId": sales }, "moveNode": { "nodeId": sales, "parentNodeId": root } }] })).await;
    assert!(message.contains("exactly one"), "{message}");
    let (_, message) = c.error(SCHEDULE, json!({ "at": soon(-1_000), "changes": [{ "deleteNode": { "nodeId": sales } }] })).await;
    assert!(message.contains("future"), "{message}");
    assert_eq!(c.data(LIST, json!({ "s": null })).await["scheduledChanges"], json!([]));

    let at = soon(3_000);
    let changes = json!([
        { "addNode": { "orgId": org_id, "name": "EMEA", "code": "emea" } },
        { "moveNode": { "nodeCode": "sales", "parentCode": "emea" } },
        { "updateNode": { "nodeCode": "sales", "name": "Sales EMEA", "order": 5 } },
        { "addNode": { "orgId": org_id, "parentCode": "emea", "name": "Inside sales", "code": "inside" } },
        { "moveMembers": { "userIds": [ann], "sourceCode": "sales", "targetCode": "inside" } },
    ]);
    let batch = c.data(SCHEDULE, json!({ "at": at, "changes": changes })).await["scheduleChanges"].clone();
    assert_eq!((batch["status"].as_str(), batch["createdBy"].as_str()), (Some("PENDING"), Some(s.pool_id.as_str())));
    let created = batch["createdNodes"].as_array().expect("created").clone();
    assert_eq!(created.iter().map(|n| n["code"].as_str().unwrap()).collect::<Vec<_>>(), ["emea", "inside"]);
    let emea = created[0]["id"].as_str().unwrap().to_string();
    // Not there yet; a later batch may already name it by its id.
    let (code, _) = c.error("query($id: String!) { nodeById(id: $id) { id } }", json!({ "id": emea })).await;
    assert_eq!(code, "NOT_FOUND");
    let later = c.data(SCHEDULE, json!({ "at": soon(3_600_000), "changes": [{ "updateNode": { "id": emea, "description": "Europe" } }] })).await;
    assert_eq!(later["scheduleChanges"]["status"], "PENDING");

    let done = settled(&c, batch["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "APPLIED", "{done}");
    let d = c.data("query($id: String!) { nodeById(id: $id) { name parentId childNodes { name code users { list { id } } } } }", json!({ "id": sales })).await;
    assert_eq!(d["nodeById"]["name"], "Sales EMEA");
    assert_eq!(d["nodeById"]["parentId"], emea.as_str());
    let inside = c.data("query($id: String!) { nodeById(id: $id) { childNodes { code users { list { id } } } } }", json!({ "id": emea })).await;
    assert_eq!(inside["nodeById"]["childNodes"], json!([{ "code": "sales", "users": { "list": [] } }, { "code": "inside", "users": { "list": [{ "id": ann }] } }]));
    // The usual events, and history in the author's name.
    assert!(events_named(&c, "organization:node-moved").await.iter().any(|e| e["data"]["node"]["id"] == sales.as_str()));
    let h = c.data("query($id: String!) { nodeById(id: $id) { history(first: 1) { nodes { actor eventName } } } }", json!({ "id": emea })).await;
    assert_eq!(h["nodeById"]["history"]["nodes"][0]["actor"], s.pool_id.as_str());
}

#[tokio::test]
async fn a_batch_can_be_cancelled_and_one_that_no_longer_applies_fails_whole_with_an_event() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let (org_id, root) = org(&c, "fail").await;
    let ops = node(&c, &org_id, &root, "Ops", "ops").await;
    let dev = node(&c, &org_id, &root, "Dev", "dev").await;

    let cancelled = c.data(SCHEDULE, json!({ "at": soon(3_000), "changes": [{ "deleteNode": { "nodeId": dev } }] })).await["scheduleChanges"]["id"].as_str().unwrap().to_string();
    let d = c.data("mutation($id: String!) { cancelScheduledChanges(id: $id) { status } }", json!({ "id": cancelled })).await;
    assert_eq!(d["cancelScheduledChanges"]["status"], "CANCELLED");
    let (code, message) = c.error("mutation($id: String!) { cancelScheduledChanges(id: $id) { status } }", json!({ "id": cancelled })).await;
    assert!(code != "<none>" && message.contains("CANCELLED"), "{message}");

    // Renames Dev, then moves Ops, which is deleted before the batch's time: nothing applies.
    let batch = json!([{ "updateNode": { "id": dev, "name": "Development" } }, { "moveNode": { "nodeId": ops, "parentNodeId": dev } }]);
    let failing = c.data(SCHEDULE, json!({ "at": soon(3_000), "changes": batch })).await["scheduleChanges"]["id"].as_str().unwrap().to_string();
    c.data("mutation($o: String!, $n: String!) { deleteNode(orgId: $o, nodeId: $n) { code } }", json!({ "o": org_id, "n": ops })).await;
    let done = settled(&c, &failing).await;
    assert_eq!(done["status"], "FAILED");
    assert!(done["error"].as_str().is_some_and(|e| e.contains("change 2 (moveNode)")), "{done}");
    let d = c.data("query($id: String!) { nodeById(id: $id) { name } }", json!({ "id": dev })).await;
    assert_eq!(d["nodeById"]["name"], "Dev", "the rename of the failed batch was not applied");
    let failed = events_named(&c, "organization:scheduled-changes-failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["data"]["id"], failing.as_str());

    // The cancelled batch (due before the failed one) stayed cancelled past its time; another
    // pool sees neither.
    let d = c.data(LIST, json!({ "s": "CANCELLED" })).await;
    assert_eq!(d["scheduledChanges"].as_array().map(Vec::len), Some(1));
    let (pool, secret) = s.new_pool("other").await;
    let other = s.client_for(&pool, &secret).await;
    assert_eq!(other.data(LIST, json!({ "s": null })).await["scheduledChanges"], json!([]));
    let (code, _) = other.error("mutation($id: String!) { cancelScheduledChanges(id: $id) { status } }", json!({ "id": failing })).await;
    assert_eq!(code, "NOT_FOUND");
}

#[tokio::test]
async fn instances_sharing_a_database_apply_a_batch_once_and_a_restart_applies_one_overdue() {
    if skipped_on_sqlite("several instances share a PostgreSQL database") {
        return;
    }
    let first = TestServer::start().await;
    let c = first.admin().await;
    let (org_id, root) = org(&c, "race").await;
    let others = [first.second().await, first.second().await];

    let batch = json!([{ "addNode": { "orgId": org_id, "parentNodeId": root, "name": "Raced", "code": "raced" } }]);
    let id = c.data(SCHEDULE, json!({ "at": soon(3_000), "changes": batch })).await["scheduleChanges"]["id"].as_str().unwrap().to_string();
    assert_eq!(settled(&c, &id).await["status"], "APPLIED");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let added: Vec<Value> = events_named(&c, "organization:node-added").await.into_iter().filter(|e| e["data"]["node"]["code"] == "raced").collect();
    assert_eq!(added.len(), 1, "applied once by three instances: {added:?}");

    // Every instance stops applying; a batch falls due; a new instance applies it at start.
    first.stop_background().await;
    for o in &others {
        o.stop_background().await;
    }
    let id = c.data(SCHEDULE, json!({ "at": soon(2_000), "changes": [{ "updateNode": { "nodeCode": "raced", "name": "Late" } }] })).await["scheduleChanges"]["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(c.data(LIST, json!({ "s": "PENDING" })).await["scheduledChanges"].as_array().map(Vec::len), Some(1));
    let _restarted = first.second().await;
    assert_eq!(settled(&c, &id).await["status"], "APPLIED");
}

#[tokio::test]
async fn a_future_as_of_previews_the_pending_batches_due_by_then_marked_planned_and_changes_nothing() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let (org_id, root) = org(&c, "plan").await;
    let sales = node(&c, &org_id, &root, "Sales", "sales").await;
    let ops = node(&c, &org_id, &root, "Ops", "ops").await;
    let dev = node(&c, &org_id, &root, "Dev", "dev").await;
    let ann = c.data("mutation { createUser(userInfo: { username: \"ann\" }) { id } }", json!({})).await["createUser"]["id"].as_str().unwrap().to_string();
    c.data("mutation($n: String!, $u: String!) { addMember(nodeId: $n, userIds: [$u]) { id } }", json!({ "n": sales, "u": ann })).await;
    let before = c.data("query($id: String!) { nodeById(id: $id) { history(first: 50) { nodes { at eventName } } } }", json!({ "id": sales })).await;

    let hour = 3_600_000;
    let first = json!([
        { "addNode": { "orgId": org_id, "name": "EMEA", "code": "emea" } },
        { "moveNode": { "nodeCode": "sales", "parentCode": "emea" } },
        { "updateNode": { "nodeCode": "sales", "name": "Sales EMEA" } },
        { "moveMembers": { "userIds": [ann], "sourceCode": "sales", "targetCode": "ops" } },
    ]);
    let first = c.data(SCHEDULE, json!({ "at": soon(hour), "changes": first })).await["scheduleChanges"].clone();
    let emea = first["createdNodes"][0]["id"].as_str().unwrap().to_string();
    let second = c.data(SCHEDULE, json!({ "at": soon(2 * hour), "changes": [{ "deleteNode": { "nodeId": ops } }] })).await["scheduleChanges"]["id"].as_str().unwrap().to_string();
    // A batch that will no longer apply (the department it renames is deleted now): left out.
    let third = c.data(SCHEDULE, json!({ "at": soon(3 * hour), "changes": [{ "updateNode": { "id": dev, "name": "Engineering" } }] })).await["scheduleChanges"]["id"].as_str().unwrap().to_string();
    c.data("mutation($o: String!, $n: String!) { deleteNode(orgId: $o, nodeId: $n) { code } }", json!({ "o": org_id, "n": dev })).await;

    const TREE: &str = "query($o: String!, $at: String) { org(id: $o, asOf: $at) { planned plannedChanges { id status }
        nodes { id name parentId planned } } }";
    let tree = async |at: Option<String>| c.data(TREE, json!({ "o": org_id, "at": at })).await["org"].clone();
    let names = |org: &Value| -> Vec<(String, String, bool)> {
        let mut list: Vec<_> = org["nodes"].as_array().unwrap().iter().map(|n| (n["name"].as_str().unwrap().to_string(), n["parentId"].as_str().unwrap_or("-").to_string(), n["planned"].as_bool().unwrap())).collect();
        list.sort();
        list
    };
    let now = tree(None).await;
    let current = vec![("Acme".to_string(), "-".to_string(), false), ("Ops".into(), root.clone(), false), ("Sales".into(), root.clone(), false)];
    assert_eq!(names(&now), current);
    assert_eq!((now["planned"].clone(), now["plannedChanges"].clone()), (json!(false), json!([])));

    // Before the first batch: the current tree, nothing planned.
    let early = tree(Some(soon(hour / 2))).await;
    assert_eq!((names(&early), early["planned"].clone()), (current.clone(), json!(false)));

    // After the first: EMEA added, Sales moved under it and renamed, each marked planned.
    let after_first = tree(Some(soon(hour + 60_000))).await;
    assert_eq!(after_first["planned"], true);
    assert_eq!(after_first["plannedChanges"], json!([{ "id": first["id"], "status": "PENDING" }]));
    // Another organization of the pool, which no batch touches, is not planned.
    let (beta, _) = org(&c, "beta").await;
    let d = c.data("query($o: String!, $at: String) { org(id: $o, asOf: $at) { planned nodes { planned } } }", json!({ "o": beta, "at": soon(hour + 60_000) })).await;
    assert_eq!(d["org"], json!({ "planned": false, "nodes": [{ "planned": false }] }));
    assert_eq!(
        names(&after_first),
        vec![("Acme".to_string(), "-".to_string(), false), ("EMEA".into(), root.clone(), true), ("Ops".into(), root.clone(), false), ("Sales EMEA".into(), emea.clone(), true)]
    );
    // Members and their departments as planned: Ann moved to Ops; paths through the new EMEA.
    const MEMBERS: &str = "query($id: String!, $at: String) { nodeById(id: $id, asOf: $at) { namePath users { totalCount list { id
        departments { list { department { code planned } } } } } } }";
    let d = c.data(MEMBERS, json!({ "id": ops, "at": soon(hour + 60_000) })).await;
    assert_eq!(d["nodeById"]["users"], json!({ "totalCount": 1, "list": [{ "id": ann, "departments": { "list": [{ "department": { "code": "ops", "planned": false } }] } }] }));
    let d = c.data(MEMBERS, json!({ "id": sales, "at": soon(hour + 60_000) })).await;
    assert_eq!(d["nodeById"]["namePath"], json!(["Acme", "EMEA", "Sales EMEA"]));
    assert_eq!(d["nodeById"]["users"]["totalCount"], 0);

    // After the second: Ops deleted too; the third is left out (it no longer applies).
    let after_all = tree(Some(soon(4 * hour))).await;
    let ids: Vec<&Value> = after_all["plannedChanges"].as_array().unwrap().iter().map(|b| &b["id"]).collect();
    assert_eq!(ids, [&first["id"], &json!(second)]);
    assert!(!ids.contains(&&json!(third)));
    assert_eq!(names(&after_all).iter().map(|n| n.0.as_str()).collect::<Vec<_>>(), ["Acme", "EMEA", "Sales EMEA"]);
    let (code, _) = c.error("query($o: String!, $at: String) { nodeByCode(orgId: $o, code: \"ops\", asOf: $at) { id } }", json!({ "o": org_id, "at": soon(4 * hour) })).await;
    assert_eq!(code, "NOT_FOUND");

    // Nothing of it happened: the tree, its history and the event log are as they were, and a
    // write goes through at once (the preview gave the writer's turn back).
    assert_eq!(names(&tree(None).await), current);
    let d = c.data("query($id: String!) { nodeById(id: $id) { history(first: 50) { nodes { at eventName } } } }", json!({ "id": sales })).await;
    assert_eq!(d, before);
    assert!(events_named(&c, "organization:node-added").await.iter().all(|e| e["data"]["node"]["code"] != "emea"));
    let started = std::time::Instant::now();
    c.data("mutation($id: String!) { cancelScheduledChanges(id: $id) { status } }", json!({ "id": first["id"] })).await;
    assert!(started.elapsed() < Duration::from_secs(2), "a write waited {:?} after a preview", started.elapsed());

    // Cancelled: the preview no longer shows it, and other pools never see this pool's plans.
    let after_cancel = tree(Some(soon(4 * hour))).await;
    assert_eq!(after_cancel["plannedChanges"], json!([{ "id": second, "status": "PENDING" }]));
    assert_eq!(after_cancel["planned"], true, "a batch deleting a department plans the org");
    assert_eq!(names(&after_cancel).iter().map(|n| n.0.as_str()).collect::<Vec<_>>(), ["Acme", "Sales"]);
    let (pool, secret) = s.new_pool("other").await;
    let other = s.client_for(&pool, &secret).await;
    let (code, _) = other.error(TREE, json!({ "o": org_id, "at": soon(4 * hour) })).await;
    assert_eq!(code, "NOT_FOUND");
}
