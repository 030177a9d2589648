//! Property test: after any sequence of tree and membership operations, closure rows, depths,
//! counts and the subtree fan-out agree with `parent_id` and the memberships; operations that
//! are refused change nothing.

use proptest::prelude::*;

use orgraph::domain::{
    PoolId,
    org_tree::{DepartmentPatch, NodeRef},
    users::{CreateOptions, UserPatch},
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

/// Pick the `i`-th of the org's current nodes (wrapping), so indexes stay meaningful as the
/// tree changes.
async fn pick(s: &TestServer, pool: &PoolId, org: &str, i: usize) -> String {
    let nodes = s.state.orgs.org_nodes(pool, org).await.expect("nodes");
    nodes[i % nodes.len()].id.clone()
}

async fn run(s: &TestServer, pool: &PoolId, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let orgs = &s.state.orgs;
    let org = orgs.create_org(pool, DepartmentPatch::named("P"), None).await.expect("org").id;
    let mut users = Vec::new();
    for _ in 0..USERS {
        let patch = UserPatch { username: Some(Some(orgraph::ids::new_id())), ..Default::default() };
        users.push(s.state.users.create(pool, patch, CreateOptions::default()).await.expect("user").id);
    }
    let mut deleted_users = Vec::new();
    for op in ops {
        let outcome = match &op {
            Op::AddNode { parent } => {
                let p = pick(s, pool, &org, *parent).await;
                orgs.add_node(pool, &org, Some(&p), DepartmentPatch::named("n").into()).await.map(|_| ())
            }
            Op::Move { node, target } => {
                let (n, t) = (pick(s, pool, &org, *node).await, pick(s, pool, &org, *target).await);
                orgs.move_node(pool, &org, &n, &t).await
            }
            Op::Delete { node } => {
                let n = pick(s, pool, &org, *node).await;
                orgs.delete_node(pool, &org, &n).await
            }
            Op::AddMembers { node, users: who } => {
                let n = pick(s, pool, &org, *node).await;
                let ids: Vec<String> = who.iter().map(|u| users[*u].clone()).collect();
                orgs.add_members(pool, &NodeRef::Id(n), &ids, None).await.map(|_| ())
            }
            Op::RemoveMember { node, user } => {
                let n = pick(s, pool, &org, *node).await;
                orgs.remove_members(pool, &NodeRef::Id(n), &[users[*user].clone()]).await.map(|_| ())
            }
            Op::MoveMembers { from, to, user } => {
                let (f, t) = (pick(s, pool, &org, *from).await, pick(s, pool, &org, *to).await);
                orgs.move_members(pool, &[users[*user].clone()], &f, &t).await
            }
            Op::DeleteUser { user } => {
                if deleted_users.contains(user) {
                    continue;
                }
                deleted_users.push(*user);
                s.state.users.delete(pool, &users[*user]).await
            }
        };
        // Refusals are expected (cycles, the root, non-members, deleted users); internal errors
        // are not.
        if let Err(e) = &outcome {
            prop_assert_ne!(e.code(), "INTERNAL_SERVER_ERROR", "{:?} failed: {}", op, e);
        }
        let problems = orgs.check_invariants(&org).await.expect("check");
        prop_assert!(problems.is_empty(), "after {:?} ({:?}): {:#?}", op, outcome.err().map(|e| e.to_string()), problems);
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
