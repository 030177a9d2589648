//! A full check of an org's derived data against its source of truth (`parent_id` and the
//! memberships): closure rows, depths and counts. The property tests run it after random
//! operation sequences; `orgraph doctor` runs it on every org, so it reads in chunks and keeps
//! one set of (ancestor, user) numbers: the distinct users of each subtree, counted.

use std::collections::{HashMap, HashSet};

use entity::{membership, node, node_closure};
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
        let mut direct: Vec<i64> = vec![0; nodes.len()];
        let mut below: HashSet<(u32, u32)> = HashSet::new();
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
                    below.insert((a, u));
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

        let mut distinct: Vec<i64> = vec![0; nodes.len()];
        for &(a, _) in &below {
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
