//! Subtree scopes against a real subscriber and a real webhook receiver: the events inside a
//! watched department's subtree, and the entered/left events from which a watcher keeps an exact
//! copy of the subtree's members.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Value, json};

use crate::{
    harness::{Client, TestServer},
    orgs::{add_members, add_node, create_org, id},
    subscriptions::{next_event, subscribe_to},
    users::create,
    webhooks::{receiver, server, wait_for},
};

const ENTERED: &str = "organization:subtree-member-entered";
const LEFT: &str = "organization:subtree-member-left";

const SUB: &str = "subscription($s: String, $names: [String!]) { events(subtreeOf: $s, eventNames: $names) { id eventName data } }";

/// xorshift64*: the test's choices, reproducible from the seed it prints.
struct Rng(u64);

impl Rng {
    fn seeded() -> Self {
        let seed = std::env::var("ORGRAPH_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1
        });
        println!("ORGRAPH_TEST_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The org as the test knows it: each department's parent, and who belongs where.
#[derive(Default)]
struct Model {
    parent: HashMap<String, String>,
    root: String,
    members: BTreeSet<(String, String)>,
    users: Vec<String>,
}

impl Model {
    fn departments(&self) -> Vec<String> {
        let mut all: Vec<String> = self.parent.keys().cloned().collect();
        all.push(self.root.clone());
        all.sort();
        all
    }

    fn is_under(&self, node: &str, top: &str) -> bool {
        let mut at = node.to_string();
        loop {
            if at == top {
                return true;
            }
            match self.parent.get(&at) {
                Some(p) => at = p.clone(),
                None => return false,
            }
        }
    }

    fn subtree_members(&self, top: &str) -> BTreeSet<String> {
        self.members.iter().filter(|(_, node)| self.is_under(node, top)).map(|(user, _)| user.clone()).collect()
    }
}

/// The subtree's members as a fresh read answers them.
async fn fresh_members(c: &Client, node: &str) -> BTreeSet<String> {
    let d = c
        .data("query($id: String!) { nodeById(id: $id) { users(includeChildrenNodes: true, limit: 200) { totalCount list { id } } } }", json!({ "id": node }))
        .await;
    let users = &d["nodeById"]["users"];
    assert!(users["totalCount"].as_i64().unwrap() <= 200, "one page holds them");
    users["list"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
}

/// Apply entered/left events to a member list; each user enters only when out and leaves only
/// when in (once per user), and each event names the watched subtree.
fn apply(list: &mut BTreeSet<String>, name: &str, data: &Value, subtree: &str) {
    assert_eq!(data["subtreeRootId"], subtree, "{data}");
    assert!(data["departmentId"].is_string(), "{data}");
    for u in data["users"].as_array().expect("users") {
        let user = u["id"].as_str().expect("a user document").to_string();
        assert!(u["username"].is_string(), "the user as user:updated carries it: {u}");
        match name {
            ENTERED => assert!(list.insert(user.clone()), "{user} entered twice"),
            LEFT => assert!(list.remove(&user), "{user} left without having entered"),
            other => panic!("unexpected event {other}"),
        }
    }
}

/// Every entered/left event of the subtree, from the outbox.
async fn crossings(c: &Client, subtree: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = "0".to_string();
    loop {
        let d = c
            .data(
                "query($a: String, $s: String, $n: [String!]) { events(after: $a, subtreeOf: $s, eventNames: $n, first: 1000) { id eventName data } }",
                json!({ "a": after, "s": subtree, "n": [ENTERED, LEFT] }),
            )
            .await;
        let page = d["events"].as_array().unwrap().clone();
        let Some(last) = page.last() else { return all };
        after = last["id"].as_str().unwrap().to_string();
        all.extend(page);
    }
}

async fn add_member(c: &Client, node: &str, user: &str) {
    add_members(c, node, &[user]).await;
}

async fn remove_member(c: &Client, node: &str, user: &str) {
    c.data("mutation($n: String, $u: [String!]!) { removeMember(nodeId: $n, userIds: $u) { id } }", json!({ "n": node, "u": [user] })).await;
}

async fn move_node(c: &Client, org: &str, node: &str, to: &str) {
    c.data("mutation($o: String!, $n: String!, $t: String!) { moveNode(orgId: $o, nodeId: $n, targetParentId: $t) { id } }", json!({ "o": org, "n": node, "t": to }))
        .await;
}

async fn create_webhook(c: &Client, url: &str, subtree: &str, events: &[&str]) -> String {
    let d = c
        .data(
            "mutation($u: String!, $e: [String!]!, $s: String) { createWebhook(name: \"sync\", url: $u, events: $e, subtreeOf: $s) { id subtreeOf } }",
            json!({ "u": url, "e": events, "s": subtree }),
        )
        .await;
    assert_eq!(d["createWebhook"]["subtreeOf"], subtree);
    d["createWebhook"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_subtree_watchers_member_list_built_from_its_events_equals_a_fresh_read_after_1000_random_changes() {
    let s = server(true).await;
    let c = s.admin().await;
    let mut rng = Rng::seeded();
    let org = create_org(&c, "Acme", "acme").await;
    let org_id = id(&org);
    let mut m = Model { root: id(&org["rootNode"]), ..Default::default() };
    // root → a (watched), b; a → a1, a2; a1 → a11; b → b1, b2; b1 → b11.
    let mut made: HashMap<&str, String> = HashMap::new();
    for (name, parent) in [("a", ""), ("b", ""), ("a1", "a"), ("a2", "a"), ("a11", "a1"), ("b1", "b"), ("b2", "b"), ("b11", "b1")] {
        let parent = if parent.is_empty() { m.root.clone() } else { made[parent].clone() };
        let node = id(&add_node(&c, &org_id, &parent, name, None).await);
        m.parent.insert(node.clone(), parent);
        made.insert(name, node);
    }
    let watched = made["a"].clone();
    for i in 0..24 {
        m.users.push(id(&create(&c, json!({ "username": format!("u{i}") })).await));
    }

    let (hooked, url) = receiver(&[]).await;
    create_webhook(&c, &url, &watched, &[ENTERED, LEFT]).await;
    let mut ws = subscribe_to(&s.url.replacen("http", "ws", 1), &c, "/graphql", SUB, json!({ "s": watched, "names": [ENTERED, LEFT] })).await;
    s.wait_for_subscriptions(1).await;

    let (mut added_nodes, mut late_users) = (0, 0);
    for _ in 0..1000 {
        let roll = rng.below(100);
        if roll < 45 {
            let (user, node) = (rng.pick(&m.users).clone(), rng.pick(&m.departments()).clone());
            if m.members.insert((user.clone(), node.clone())) {
                add_member(&c, &node, &user).await;
            }
        } else if roll < 80 {
            let held: Vec<(String, String)> = m.members.iter().cloned().collect();
            if held.is_empty() {
                continue;
            }
            let (user, node) = rng.pick(&held).clone();
            m.members.remove(&(user.clone(), node.clone()));
            remove_member(&c, &node, &user).await;
        } else if roll < 95 {
            let movable: Vec<String> = m.parent.keys().cloned().collect::<BTreeSet<_>>().into_iter().collect();
            let node = rng.pick(&movable).clone();
            let targets: Vec<String> = m.departments().into_iter().filter(|t| !m.is_under(t, &node) && Some(t) != m.parent.get(&node)).collect();
            if targets.is_empty() {
                continue;
            }
            let to = rng.pick(&targets).clone();
            move_node(&c, &org_id, &node, &to).await;
            m.parent.insert(node, to);
        } else if roll < 98 {
            // Delete a leaf department (never the watched one) with its members; add another.
            let leaves: Vec<String> = m.parent.keys().filter(|n| **n != watched && !m.parent.values().any(|p| p == *n)).cloned().collect::<BTreeSet<_>>().into_iter().collect();
            if leaves.is_empty() {
                continue;
            }
            let leaf = rng.pick(&leaves).clone();
            c.data("mutation($o: String!, $n: String!) { deleteNode(orgId: $o, nodeId: $n) { code } }", json!({ "o": org_id, "n": leaf })).await;
            m.parent.remove(&leaf);
            m.members.retain(|(_, n)| *n != leaf);
            let parent = rng.pick(&m.departments()).clone();
            added_nodes += 1;
            let node = id(&add_node(&c, &org_id, &parent, &format!("n{added_nodes}"), None).await);
            m.parent.insert(node, parent);
        } else {
            // Delete a user (leaving every department at once); create another.
            let user = rng.pick(&m.users).clone();
            c.data("mutation($id: String!) { deleteUser(id: $id) { code } }", json!({ "id": user })).await;
            m.users.retain(|u| *u != user);
            m.members.retain(|(u, _)| *u != user);
            late_users += 1;
            m.users.push(id(&create(&c, json!({ "username": format!("late{late_users}") })).await));
        }
    }

    let expected = m.subtree_members(&watched);
    assert_eq!(fresh_members(&c, &watched).await, expected, "the server agrees with the test's model");
    let recorded = crossings(&c, &watched).await;
    assert!(recorded.len() > 50, "the changes crossed the subtree's border often: {}", recorded.len());

    // The subscriber, from its events only.
    let mut from_subscription = BTreeSet::new();
    for _ in 0..recorded.len() {
        let e = next_event(&mut ws).await;
        apply(&mut from_subscription, e["eventName"].as_str().unwrap(), &e["data"], &watched);
    }
    assert_eq!(from_subscription, expected, "the subscriber's list");

    // The webhook receiver, from its deliveries in the order they arrived.
    let got = wait_for(&hooked, recorded.len()).await;
    let mut from_webhook = BTreeSet::new();
    let mut ids = HashSet::new();
    for r in &got {
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert!(ids.insert(crate::webhooks::header(r, "webhook-id").to_string()), "each event delivered once");
        apply(&mut from_webhook, body["eventName"].as_str().unwrap(), &body["data"], &watched);
    }
    assert_eq!(from_webhook, expected, "the receiver's list");
}

#[tokio::test]
async fn a_watcher_gets_the_events_inside_its_subtree_and_a_moved_department_once_with_its_members() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme").await;
    let org_id = id(&org);
    let root = id(&org["rootNode"]);
    let a = id(&add_node(&c, &org_id, &root, "a", None).await);
    let a1 = id(&add_node(&c, &org_id, &a, "a1", None).await);
    let b = id(&add_node(&c, &org_id, &root, "b", None).await);
    let users: Vec<String> = futures_util::future::join_all((0..3).map(|i| create(&c, json!({ "username": format!("m{i}") })))).await.iter().map(id).collect();
    let mut ws = subscribe_to(&s.url.replacen("http", "ws", 1), &c, "/graphql", SUB, json!({ "s": a, "names": null })).await;
    s.wait_for_subscriptions(1).await;

    // Outside the subtree: nothing. Inside: the membership, the entry, a member's update.
    add_member(&c, &b, &users[0]).await;
    add_member(&c, &b, &users[1]).await;
    add_member(&c, &a1, &users[2]).await;
    let e = next_event(&mut ws).await;
    assert_eq!((e["eventName"].as_str().unwrap(), e["data"]["node"]["id"].as_str().unwrap()), ("organization:member-added", a1.as_str()));
    let e = next_event(&mut ws).await;
    assert_eq!(e["eventName"], ENTERED);
    assert_eq!((e["data"]["subtreeRootId"].as_str().unwrap(), e["data"]["departmentId"].as_str().unwrap()), (a.as_str(), a1.as_str()));
    c.data("mutation($id: String!) { updateUser(id: $id, input: { nickname: \"n\" }) { id } }", json!({ "id": users[2] })).await;
    assert_eq!(next_event(&mut ws).await["eventName"], "user:updated", "a member's own events are inside");
    c.data("mutation($id: String!) { updateUser(id: $id, input: { nickname: \"n\" }) { id } }", json!({ "id": users[0] })).await;

    // b moves in: one event for the department, one for its two members (and no more).
    move_node(&c, &org_id, &b, &a1).await;
    let e = next_event(&mut ws).await;
    assert_eq!((e["eventName"].as_str().unwrap(), e["data"]["node"]["id"].as_str().unwrap()), ("organization:node-moved", b.as_str()));
    let e = next_event(&mut ws).await;
    assert_eq!(e["eventName"], ENTERED);
    assert_eq!(e["data"]["departmentId"], b);
    let entered: BTreeSet<&str> = e["data"]["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(entered, BTreeSet::from([users[0].as_str(), users[1].as_str()]));
    // And out again: the move, then both leave.
    move_node(&c, &org_id, &b, &root).await;
    assert_eq!(next_event(&mut ws).await["eventName"], "organization:node-moved");
    let e = next_event(&mut ws).await;
    assert_eq!((e["eventName"].as_str().unwrap(), e["data"]["users"].as_array().unwrap().len()), (LEFT, 2));

    // The listing keeps the same scope; another subtree's events are not in it.
    let listed = c.data("query($s: String) { events(after: \"0\", subtreeOf: $s) { eventName } }", json!({ "s": b })).await;
    let names: Vec<&str> = listed["events"].as_array().unwrap().iter().map(|e| e["eventName"].as_str().unwrap()).collect();
    assert!(names.contains(&"organization:member-added") && !names.contains(&ENTERED), "{names:?}");

    // A subtree webhook's replay sends its subtree's events only.
    let hook = c
        .data("mutation($s: String) { createWebhook(name: \"r\", url: \"https://example.com/h\", events: [\"organization:member-added\"], subtreeOf: $s, enabled: false) { id } }", json!({ "s": a }))
        .await["createWebhook"]["id"].clone();
    let replayed = c.data("mutation($w: String!) { replayEvents(webhookId: $w, since: \"0\") }", json!({ "w": hook })).await["replayEvents"].as_i64().unwrap();
    let inside = c.data("query($s: String) { events(after: \"0\", subtreeOf: $s, eventNames: [\"organization:member-added\"]) { id } }", json!({ "s": a })).await;
    assert_eq!((replayed, inside["events"].as_array().unwrap().len() as i64), (1, 1), "a1's member only: b's two joined while b was outside");

    // Unknown departments and other pools' departments are refused.
    let mut bad = subscribe_to(&s.url.replacen("http", "ws", 1), &c, "/graphql", SUB, json!({ "s": "nope", "names": null })).await;
    let refused = crate::subscriptions::recv(&mut bad).await.expect("an answer");
    assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND", "{refused}");
    let (pool2, secret2) = s.new_pool("other").await;
    let other = s.client_for(&pool2, &secret2).await;
    let (code, _) = other
        .error("mutation($u: String!, $s: String) { createWebhook(name: \"x\", url: $u, events: [\"user:updated\"], subtreeOf: $s) { id } }", json!({ "u": "https://example.com/h", "s": a }))
        .await;
    assert_eq!(code, "NOT_FOUND");
}

#[tokio::test]
async fn a_move_of_many_users_costs_one_crossing_event_per_thousand_users() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let a = id(&add_node(&c, &org_id, &root, "a", None).await);
    let b = id(&add_node(&c, &org_id, &root, "b", None).await);
    let mut ids = BTreeSet::new();
    for batch in 0..11 {
        let list: Vec<Value> = (0..if batch < 10 { 100 } else { 1 }).map(|i| json!({ "username": format!("bulk{batch}-{i}") })).collect();
        let res: Value = c.post_json("/api/v3/create-users-batch", json!({ "list": list })).await.json().await.unwrap();
        ids.extend(res["data"].as_array().unwrap_or_else(|| panic!("{res}")).iter().map(|u| u["userId"].as_str().unwrap().to_string()));
    }
    assert_eq!(ids.len(), 1001);
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    for part in all.chunks(500) {
        add_members(&c, &b, part).await;
    }
    let mut ws = subscribe_to(&s.url.replacen("http", "ws", 1), &c, "/graphql", SUB, json!({ "s": a, "names": [ENTERED, LEFT] })).await;
    s.wait_for_subscriptions(1).await;

    move_node(&c, &org_id, &b, &a).await;
    let (first, second) = (next_event(&mut ws).await, next_event(&mut ws).await);
    let sizes = [&first, &second].map(|e| e["data"]["users"].as_array().unwrap().len());
    assert_eq!(sizes, [1000, 1]);
    let mut entered = BTreeSet::new();
    for e in [&first, &second] {
        assert_eq!((e["eventName"].as_str().unwrap(), e["data"]["departmentId"].as_str().unwrap()), (ENTERED, b.as_str()));
        apply(&mut entered, ENTERED, &e["data"], &a);
    }
    assert_eq!(entered, ids, "each once");
    assert_eq!(crossings(&c, &a).await.len(), 2, "two events in the outbox");
}

/// Two changes committing together that each take one of a user's two memberships in the
/// subtree (or give one): exactly one of them records the crossing.
#[tokio::test]
async fn concurrent_changes_to_one_users_memberships_cross_once() {
    let s = TestServer::start().await;
    let c = s.admin().await;
    let org = create_org(&c, "Acme", "acme").await;
    let (org_id, root) = (id(&org), id(&org["rootNode"]));
    let w = id(&add_node(&c, &org_id, &root, "w", None).await);
    let (a, b) = (id(&add_node(&c, &org_id, &w, "a", None).await), id(&add_node(&c, &org_id, &w, "b", None).await));
    let users: Vec<String> = futures_util::future::join_all((0..8).map(|i| create(&c, json!({ "username": format!("c{i}") })))).await.iter().map(id).collect();
    let mut ws = subscribe_to(&s.url.replacen("http", "ws", 1), &c, "/graphql", SUB, json!({ "s": w, "names": [ENTERED, LEFT] })).await;
    s.wait_for_subscriptions(1).await;
    let members = |node: String, add: bool| {
        let (c, users) = (c.clone(), users.clone());
        async move {
            let op = if add { "addMember" } else { "removeMember" };
            c.data(&format!("mutation($n: String, $u: [String!]!) {{ {op}(nodeId: $n, userIds: $u) {{ id }} }}"), json!({ "n": node, "u": users })).await;
        }
    };
    for _ in 0..10 {
        futures_util::future::join(members(a.clone(), true), members(b.clone(), true)).await;
        futures_util::future::join(members(a.clone(), false), members(b.clone(), false)).await;
    }
    let recorded = crossings(&c, &w).await;
    let mut list = BTreeSet::new();
    for e in &recorded {
        apply(&mut list, e["eventName"].as_str().unwrap(), &e["data"], &w);
    }
    assert!(list.is_empty(), "everyone left in the end: {list:?}");
    let entered: usize = recorded.iter().filter(|e| e["eventName"] == ENTERED).map(|e| e["data"]["users"].as_array().unwrap().len()).sum();
    assert_eq!(entered, 10 * users.len(), "each user entered once per round");
    let mut from_subscription = BTreeSet::new();
    for _ in 0..recorded.len() {
        let e = next_event(&mut ws).await;
        apply(&mut from_subscription, e["eventName"].as_str().unwrap(), &e["data"], &w);
    }
    assert!(from_subscription.is_empty());
}
