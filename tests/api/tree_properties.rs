//! Property test: after any sequence of tree and membership operations, the server agrees with
//! a reference model (a plain in-memory tree applying the same operations by their documented
//! rules): the same operations succeed and are refused, the same parents and memberships result,
//! and every subtree lists the same members. Closure rows, depths and counts
//! also agree with `parent_id` and the memberships (`check_invariants`). And the org as of each
//! past instant (`asOf`: tree, paths, leaders, members direct and by subtree, counts) is what it
//! answered at that instant.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use orgraph::{
    domain::{
        PoolId,
        org_tree::{DepartmentPatch, MemberSort, MembersQuery, NodeRef},
        pagination::Page,
        users::{CreateOptions, UserPatch},
    },
    storage::user_columns::UserColumns,
};

use crate::harness::TestServer;

#[derive(Debug, Clone)]
enum Op {
    AddNode { parent: usize },
    Move { node: usize, target: usize },
    Delete { node: usize },
    AddMembers { node: usize, users: Vec<usize> },
    RemoveMember { node: usize, user: usize },
    MoveMembers { from: usize, to: usize, user: usize },
    DeleteUser { user: usize },
}

const USERS: usize = 6;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..20usize).prop_map(|parent| Op::AddNode { parent }),
        3 => (0..20usize, 0..20usize).prop_map(|(node, target)| Op::Move { node, target }),
        1 => (0..20usize).prop_map(|node| Op::Delete { node }),
        4 => (0..20usize, proptest::collection::vec(0..USERS, 1..4)).prop_map(|(node, users)| Op::AddMembers { node, users }),
        2 => (0..20usize, 0..USERS).prop_map(|(node, user)| Op::RemoveMember { node, user }),
        2 => (0..20usize, 0..20usize, 0..USERS).prop_map(|(from, to, user)| Op::MoveMembers { from, to, user }),
        1 => (0..USERS).prop_map(|user| Op::DeleteUser { user }),
    ]
}

/// The reference: parents and memberships, changed by each operation's rule. Sequences are
/// shorter than the depth limit, so it is not modelled.
#[derive(Debug, Default, Clone, PartialEq)]
struct Reference {
    parent: BTreeMap<String, Option<String>>,
    members: BTreeSet<(String, String)>,
    deleted_users: BTreeSet<String>,
}

impl Reference {
    fn is_root(&self, node: &str) -> bool {
        self.parent.get(node).is_some_and(Option::is_none)
    }

    /// `node` and every node below it.
    fn subtree(&self, node: &str) -> BTreeSet<String> {
        let mut below = BTreeSet::from([node.to_string()]);
        loop {
            let more: Vec<String> = self
                .parent
                .iter()
                .filter(|(n, p)| !below.contains(*n) && p.as_ref().is_some_and(|p| below.contains(p)))
                .map(|(n, _)| n.clone())
                .collect();
            if more.is_empty() {
                return below;
            }
            below.extend(more);
        }
    }

    fn is_member(&self, node: &str, user: &str) -> bool {
        self.members.contains(&(node.to_string(), user.to_string()))
    }

    /// Apply `op` (its departments and users already resolved to ids) if its rule allows it;
    /// answer whether it did.
    fn apply(&mut self, op: &Resolved) -> bool {
        match op {
            Resolved::AddNode { parent, created } => {
                self.parent.insert(created.clone(), Some(parent.clone()));
                true
            }
            Resolved::Move { node, target } => {
                if self.is_root(node) || self.subtree(node).contains(target) {
                    return false;
                }
                self.parent.insert(node.clone(), Some(target.clone()));
                true
            }
            Resolved::Delete { node } => {
                if self.is_root(node) {
                    return false;
                }
                let gone = self.subtree(node);
                self.parent.retain(|n, _| !gone.contains(n));
                self.members.retain(|(n, _)| !gone.contains(n));
                true
            }
            Resolved::AddMembers { node, users } => {
                if users.iter().any(|u| self.deleted_users.contains(u)) {
                    return false;
                }
                self.members.extend(users.iter().map(|u| (node.clone(), u.clone())));
                true
            }
            Resolved::RemoveMember { node, user } => self.members.remove(&(node.clone(), user.clone())),
            Resolved::MoveMembers { from, to, user } => {
                if from == to || !self.is_member(from, user) {
                    return false;
                }
                self.members.remove(&(from.clone(), user.clone()));
                self.members.insert((to.clone(), user.clone()));
                true
            }
            Resolved::DeleteUser { user } => {
                self.members.retain(|(_, u)| u != user);
                self.deleted_users.insert(user.clone());
                true
            }
        }
    }

    /// The distinct members of `node`'s subtree.
    fn subtree_members(&self, node: &str) -> BTreeSet<String> {
        let nodes = self.subtree(node);
        self.members.iter().filter(|(n, _)| nodes.contains(n)).map(|(_, u)| u.clone()).collect()
    }
}

/// An operation with its departments and users picked.
#[derive(Debug)]
enum Resolved {
    AddNode { parent: String, created: String },
    Move { node: String, target: String },
    Delete { node: String },
    AddMembers { node: String, users: Vec<String> },
    RemoveMember { node: String, user: String },
    MoveMembers { from: String, to: String, user: String },
    DeleteUser { user: String },
}

/// What the server holds: each node's parent and the memberships of the org.
async fn server_state(s: &TestServer, pool: &PoolId, org: &str, reference: &Reference) -> Reference {
    let nodes = s.state.orgs.org_nodes(pool, org).await.expect("nodes");
    let members = entity::membership::Entity::find()
        .filter(entity::membership::Column::OrgId.eq(org))
        .all(&s.state.db)
        .await
        .expect("memberships");
    Reference {
        parent: nodes.into_iter().map(|n| (n.id, n.parent_id)).collect(),
        members: members.into_iter().map(|m| (m.node_id, m.user_id)).collect(),
        deleted_users: reference.deleted_users.clone(),
    }
}

/// The org as a client sees it, now (`$at` null) or as of an instant.
const AS_OF: &str = "query($org: String!, $at: String) { org(id: $org, asOf: $at) { id rootNode { id depth } nodes {
    id parentId depth path namePath codePath children leaderUserIds childNodes { id }
    users(limit: 200) { totalCount list { id username departments { totalCount list { department { id path } isMainDepartment } } } }
    subtree: users(limit: 200, includeChildrenNodes: true) { totalCount list { id } } } } }";

/// The members the server lists for `node`'s subtree.
async fn listed_subtree_members(s: &TestServer, pool: &PoolId, node: &str) -> BTreeSet<String> {
    let node = s.state.orgs.node(pool, node).await.expect("node");
    let query = MembersQuery {
        page: Page { page: 1, limit: 200 },
        sort: MemberSort::User(Default::default()),
        include_children: true,
        columns: UserColumns::ALL,
    };
    let page = s.state.orgs.members_page(&node, query).await.expect("members page");
    assert_eq!(page.total_count as usize, page.list.len(), "totalCount of {}", node.id);
    page.list.into_iter().map(|u| u.id).collect()
}

/// Pick the `i`-th of the org's current nodes (wrapping), so indexes stay meaningful as the
/// tree changes.
async fn pick(s: &TestServer, pool: &PoolId, org: &str, i: usize) -> String {
    let nodes = s.state.orgs.org_nodes(pool, org).await.expect("nodes");
    nodes[i % nodes.len()].id.clone()
}

async fn run(s: &TestServer, pool: &PoolId, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let orgs = &s.state.orgs;
    let root = orgs.create_org(pool, DepartmentPatch::named("P"), None).await.expect("org");
    let org = root.id.clone();
    let mut reference = Reference::default();
    for n in orgs.org_nodes(pool, &org).await.expect("nodes") {
        reference.parent.insert(n.id, n.parent_id);
    }
    let mut users = Vec::new();
    for _ in 0..USERS {
        let patch = UserPatch { username: Some(Some(orgraph::ids::new_id())), ..Default::default() };
        users.push(s.state.users.create(pool, patch, CreateOptions::default()).await.expect("user").id);
    }
    let admin = s.admin().await;
    let mut snapshots = Vec::new();
    for op in ops {
        let (resolved, outcome) = match &op {
            Op::AddNode { parent } => {
                let p = pick(s, pool, &org, *parent).await;
                match orgs.add_node(pool, &org, Some(&p), DepartmentPatch::named("n").into()).await {
                    Ok(node) => (Resolved::AddNode { parent: p, created: node.id }, Ok(())),
                    Err(e) => return Err(TestCaseError::fail(format!("{op:?} was refused: {e}"))),
                }
            }
            Op::Move { node, target } => {
                let (n, t) = (pick(s, pool, &org, *node).await, pick(s, pool, &org, *target).await);
                let outcome = orgs.move_node(pool, &org, &n, &t).await;
                (Resolved::Move { node: n, target: t }, outcome)
            }
            Op::Delete { node } => {
                let n = pick(s, pool, &org, *node).await;
                let outcome = orgs.delete_node(pool, &org, &n).await;
                (Resolved::Delete { node: n }, outcome)
            }
            Op::AddMembers { node, users: who } => {
                let n = pick(s, pool, &org, *node).await;
                let ids: Vec<String> = who.iter().map(|u| users[*u].clone()).collect();
                let outcome = orgs.add_members(pool, &NodeRef::Id(n.clone()), &ids, None).await.map(|_| ());
                (Resolved::AddMembers { node: n, users: ids }, outcome)
            }
            Op::RemoveMember { node, user } => {
                let n = pick(s, pool, &org, *node).await;
                let outcome = orgs.remove_members(pool, &NodeRef::Id(n.clone()), &[users[*user].clone()]).await.map(|_| ());
                (Resolved::RemoveMember { node: n, user: users[*user].clone() }, outcome)
            }
            Op::MoveMembers { from, to, user } => {
                let (f, t) = (pick(s, pool, &org, *from).await, pick(s, pool, &org, *to).await);
                let outcome = orgs.move_members(pool, &[users[*user].clone()], &f, &t).await;
                (Resolved::MoveMembers { from: f, to: t, user: users[*user].clone() }, outcome)
            }
            Op::DeleteUser { user } => {
                if reference.deleted_users.contains(&users[*user]) {
                    continue;
                }
                let outcome = s.state.users.delete(pool, &users[*user]).await;
                (Resolved::DeleteUser { user: users[*user].clone() }, outcome)
            }
        };
        // Refusals are expected (cycles, the root, non-members, deleted users); internal errors
        // are not.
        if let Err(e) = &outcome {
            prop_assert_ne!(e.code(), "INTERNAL_SERVER_ERROR", "{:?} failed: {}", op, e);
        }
        let allowed = reference.apply(&resolved);
        prop_assert_eq!(outcome.is_ok(), allowed, "{:?}: server {:?}, reference allows: {}", resolved, outcome.as_ref().err().map(|e| e.to_string()), allowed);
        let held = server_state(s, pool, &org, &reference).await;
        prop_assert_eq!(&held, &reference, "after {:?}", resolved);
        let problems = orgs.check_invariants(&org).await.expect("check");
        prop_assert!(problems.is_empty(), "after {:?} ({:?}): {:#?}", resolved, outcome.err().map(|e| e.to_string()), problems);
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        snapshots.push((at, resolved, admin.data(AS_OF, serde_json::json!({ "org": org, "at": null })).await));
    }
    for (at, after, snapshot) in &snapshots {
        let then = admin.data(AS_OF, serde_json::json!({ "org": org, "at": at })).await;
        prop_assert_eq!(&then, snapshot, "the org as of {} (after {:?})", at, after);
    }
    for node in reference.parent.keys() {
        let listed = listed_subtree_members(s, pool, node).await;
        prop_assert_eq!(listed, reference.subtree_members(node), "members of the subtree of {}", node);
        both_plans_page_alike(s, pool, node).await?;
    }
    Ok(())
}

/// Each page of `node`'s members, direct and subtree, in every order, is the same by both
/// plans (walking the sorted users or memberships, gathering the subtree's), and pages of 3
/// put end to end are the whole list, whether each page starts at an offset or after the
/// previous page's last member (keyset), by either plan.
async fn both_plans_page_alike(s: &TestServer, pool: &PoolId, node: &str) -> Result<(), TestCaseError> {
    use orgraph::storage::tree::members::{Member, MemberPage, PageKey, PageNode, Plan, pages, pages_by};
    let model = s.state.orgs.node(pool, node).await.expect("node");
    let n = PageNode::from(&model);
    let ids = |pages: std::collections::HashMap<String, Vec<Member>>| -> Vec<String> { pages.into_values().flatten().map(|m| m.user.id).collect() };
    for subtree in [false, true] {
        for key in [PageKey::UserCreated, PageKey::UserUpdated, PageKey::Joined] {
            for ascending in [false, true] {
                let p = MemberPage { limit: 200, offset: 0, after: None, key, ascending, subtree, columns: UserColumns::keys() };
                let walked = ids(pages_by(&s.state.db, &[&n], &p, Plan::Walk).await.expect("walk"));
                let gathered = ids(pages_by(&s.state.db, &[&n], &p, Plan::Gather).await.expect("gather"));
                prop_assert_eq!(&walked, &gathered, "{:?} of {} (subtree: {}, ascending: {})", key, node, subtree, ascending);
                let total = if subtree { model.subtree_member_count } else { model.member_count };
                prop_assert_eq!(walked.len() as i64, total, "count of {}", node);
                let mut paged = Vec::new();
                for offset in (0..walked.len()).step_by(3) {
                    let p = MemberPage { limit: 3, offset: offset as u64, ..p.clone() };
                    paged.extend(ids(pages_by(&s.state.db, &[&n], &p, Plan::Walk).await.expect("walk page")));
                }
                prop_assert_eq!(&paged, &walked, "pages of 3 of {} by {:?} (subtree: {}, ascending: {})", node, key, subtree, ascending);
                for plan in [Some(Plan::Walk), Some(Plan::Gather), None] {
                    let (mut keyset, mut after) = (Vec::new(), None);
                    loop {
                        let p = MemberPage { limit: 3, after, ..p.clone() };
                        let mut page = match plan {
                            Some(plan) => pages_by(&s.state.db, &[&n], &p, plan).await,
                            None => pages(&s.state.db, std::slice::from_ref(&n), &p).await,
                        }
                        .expect("keyset page");
                        let page = page.remove(node).unwrap_or_default();
                        prop_assert!(page.len() <= 3 && keyset.len() <= walked.len(), "keyset pages of {} overrun", node);
                        after = page.last().map(|m| m.position.clone());
                        keyset.extend(page.into_iter().map(|m| m.user.id));
                        if after.is_none() {
                            break;
                        }
                    }
                    prop_assert_eq!(&keyset, &walked, "keyset pages of 3 of {} by {:?} via {:?} (subtree: {}, ascending: {})", node, key, plan, subtree, ascending);
                }
            }
        }
    }
    Ok(())
}

#[test]
fn random_operation_sequences_keep_the_tree_consistent() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start());
    let pool = rt.block_on(server.pool());
    let cases = if std::env::var("DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) { 16 } else { 32 };
    let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(ops in proptest::collection::vec(op(), 1..40))| {
        rt.block_on(run(&server, &pool, ops))?;
    });
}
