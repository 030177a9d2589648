//! A full check of an org's derived data against its source of truth (`parent_id` and the
//! memberships): closure rows, depths, counts and the subtree fan-out. The property tests run it
//! after random operation sequences; `orgraph doctor` runs it on every org, so it is linear in
//! the rows it reads (nodes and users are numbered, the expected fan-out is built per
//! membership from the node's ancestors) and reads them in chunks.

use std::collections::{HashMap, HashSet};

use entity::{membership, node, node_closure, subtree_member};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{OrgService, org_nodes};
use crate::error::AppResult;

/// Most problems listed per kind: a broken org can have millions of wrong rows.
const MAX_LISTED: usize = 20;

impl OrgService {
    /// Every broken invariant of `org_id`, described; empty when the org is consistent.
    pub async fn check_invariants(&self, org_id: &str) -> AppResult<Vec<String>> {
        let nodes = org_nodes(&self.db, org_id).await?;
        let index: HashMap<&str, u32> = nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i as u32)).collect();
        let mut problems = Vec::new();

        // Expected ancestors (the node itself first) from parent pointers.
        let mut ancestors: Vec<Vec<u32>> = Vec::with_capacity(nodes.len());
        for n in &nodes {
            let mut path = Vec::new();
            let mut cur = Some(n);
            while let Some(c) = cur {
                path.push(index[c.id.as_str()]);
                if path.len() > 10_000 {
                    problems.push(format!("cycle through node {}", n.id));
                    break;
                }
                cur = c.parent_id.as_deref().and_then(|p| index.get(p)).map(|&i| &nodes[i as usize]);
                if c.parent_id.is_some() && cur.is_none() {
                    problems.push(format!("node {} has a parent outside the org", c.id));
                }
            }
            if n.depth as usize != path.len() - 1 {
                problems.push(format!("node {} has depth {} but {} ancestors", n.id, n.depth, path.len() - 1));
            }
            ancestors.push(path);
        }

        let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
        let mut users: HashMap<String, u32> = HashMap::new();
        let mut user_index = |u: String| -> u32 {
            let next = users.len() as u32;
            *users.entry(u).or_insert(next)
        };
        let mut actual_closure: HashSet<(u32, u32, i32)> = HashSet::new();
        let mut wrong_closure = Vec::new();
        let mut actual_refs: HashMap<(u32, u32), i32> = HashMap::new();
        let mut direct: Vec<i64> = vec![0; nodes.len()];
        let mut expected_refs: HashMap<(u32, u32), i32> = HashMap::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(String, String, i32)> = node_closure::Entity::find()
                .select_only()
                .columns([node_closure::Column::AncestorId, node_closure::Column::DescendantId, node_closure::Column::Depth])
                .filter(node_closure::Column::DescendantId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (a, d, depth) in rows {
                match (index.get(a.as_str()), index.get(d.as_str())) {
                    (Some(&a), Some(&d)) => {
                        actual_closure.insert((a, d, depth));
                    }
                    _ => wrong_closure.push(format!("closure row wrong: ({a:?}, {d:?}, {depth})")),
                }
            }
            let rows: Vec<(String, String, i32)> = subtree_member::Entity::find()
                .select_only()
                .columns([subtree_member::Column::AncestorId, subtree_member::Column::UserId, subtree_member::Column::Refs])
                .filter(subtree_member::Column::AncestorId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (a, u, refs) in rows {
                actual_refs.insert((index[a.as_str()], user_index(u)), refs);
            }
            let rows: Vec<(String, String)> = membership::Entity::find()
                .select_only()
                .columns([membership::Column::NodeId, membership::Column::UserId])
                .filter(membership::Column::NodeId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (n, u) in rows {
                let (n, u) = (index[n.as_str()], user_index(u));
                direct[n as usize] += 1;
                for &a in &ancestors[n as usize] {
                    *expected_refs.entry((a, u)).or_default() += 1;
                }
            }
        }
        let id = |i: u32| nodes[i as usize].id.as_str();
        let mut listed = 0;
        for (d, path) in ancestors.iter().enumerate() {
            for (depth, &a) in path.iter().enumerate() {
                if !actual_closure.remove(&(a, d as u32, depth as i32)) && listed < MAX_LISTED {
                    problems.push(format!("closure row missing: ({:?}, {:?}, {depth})", id(a), id(d as u32)));
                    listed += 1;
                }
            }
        }
        for (a, d, depth) in actual_closure.into_iter().take(MAX_LISTED) {
            problems.push(format!("closure row wrong: ({:?}, {:?}, {depth})", id(a), id(d)));
        }
        problems.extend(wrong_closure.into_iter().take(MAX_LISTED));

        let user_ids: HashMap<u32, &str> = users.iter().map(|(u, &i)| (i, u.as_str())).collect();
        let mut listed = 0;
        for (&(a, u), &refs) in &expected_refs {
            let found = actual_refs.get(&(a, u));
            if found != Some(&refs) && listed < MAX_LISTED {
                problems.push(format!("subtree_member ({:?}, {:?}): expected refs {refs}, found {found:?}", id(a), user_ids[&u]));
                listed += 1;
            }
        }
        let mut listed = 0;
        for (&(a, u), refs) in &actual_refs {
            if !expected_refs.contains_key(&(a, u)) && listed < MAX_LISTED {
                problems.push(format!("subtree_member ({:?}, {:?}) with refs {refs} should not exist", id(a), user_ids[&u]));
                listed += 1;
            }
        }
        let mut distinct: Vec<i64> = vec![0; nodes.len()];
        for &(a, _) in expected_refs.keys() {
            distinct[a as usize] += 1;
        }
        for (i, n) in nodes.iter().enumerate() {
            check_count(&mut problems, n, "member_count", n.member_count, direct[i], "members");
            check_count(&mut problems, n, "subtree_member_count", n.subtree_member_count, distinct[i], "distinct users");
        }
        Ok(problems)
    }
}

fn check_count(problems: &mut Vec<String>, n: &node::Model, column: &str, found: i64, want: i64, what: &str) {
    if found != want {
        problems.push(format!("node {} {column} {found} but {want} {what}", n.id));
    }
}
