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
