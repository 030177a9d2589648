//! A full check of an org's derived data against its source of truth (`parent_id` and the
//! memberships): closure rows, depths, counts and the subtree fan-out. The property tests run it
//! after random operation sequences; it is also cheap enough for an operator's audit.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use entity::{membership, node, node_closure, subtree_member};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{OrgService, org_nodes};
use crate::error::AppResult;

impl OrgService {
    /// Every broken invariant of `org_id`, described; empty when the org is consistent.
    pub async fn check_invariants(&self, org_id: &str) -> AppResult<Vec<String>> {
        let nodes = org_nodes(&self.db, org_id).await?;
        let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
        let by_id: HashMap<&str, &node::Model> = nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let mut problems = Vec::new();

        // Expected ancestors from parent pointers.
        let mut expected_closure: BTreeSet<(String, String, i32)> = BTreeSet::new();
        for n in &nodes {
            let mut cur = Some(n);
            let mut d = 0;
            while let Some(c) = cur {
                expected_closure.insert((c.id.clone(), n.id.clone(), d));
                d += 1;
                if d > 10_000 {
                    problems.push(format!("cycle through node {}", n.id));
                    break;
                }
                cur = c.parent_id.as_deref().and_then(|p| by_id.get(p).copied());
                if c.parent_id.is_some() && cur.is_none() {
                    problems.push(format!("node {} has a parent outside the org", c.id));
                }
            }
            if n.depth != d - 1 {
                problems.push(format!("node {} has depth {} but {} ancestors", n.id, n.depth, d - 1));
            }
        }
        let mut actual_closure = BTreeSet::new();
        let mut subtree_rows = Vec::new();
        let mut members = Vec::new();
        for chunk in ids.chunks(500) {
            for r in node_closure::Entity::find().filter(node_closure::Column::DescendantId.is_in(chunk.to_vec())).all(&self.db).await? {
                actual_closure.insert((r.ancestor_id, r.descendant_id, r.depth));
            }
            subtree_rows.extend(subtree_member::Entity::find().filter(subtree_member::Column::AncestorId.is_in(chunk.to_vec())).all(&self.db).await?);
            members.extend(membership::Entity::find().filter(membership::Column::NodeId.is_in(chunk.to_vec())).all(&self.db).await?);
        }
        for missing in expected_closure.difference(&actual_closure) {
            problems.push(format!("closure row missing: {missing:?}"));
        }
        for extra in actual_closure.difference(&expected_closure) {
            problems.push(format!("closure row wrong: {extra:?}"));
        }

        // Expected fan-out: for each ancestor, each user's number of memberships below it.
        let mut expected_refs: BTreeMap<(String, String), i32> = BTreeMap::new();
        let mut direct: HashMap<&str, i64> = HashMap::new();
        for m in &members {
            *direct.entry(m.node_id.as_str()).or_default() += 1;
            for (a, d, _) in expected_closure.iter().filter(|(_, d, _)| d == &m.node_id) {
                let _ = d;
                *expected_refs.entry((a.clone(), m.user_id.clone())).or_default() += 1;
            }
        }
        let actual_refs: BTreeMap<(String, String), i32> =
            subtree_rows.iter().map(|r| ((r.ancestor_id.clone(), r.user_id.clone()), r.refs)).collect();
        if expected_refs != actual_refs {
            for (k, v) in &expected_refs {
                if actual_refs.get(k) != Some(v) {
                    problems.push(format!("subtree_member {k:?}: expected refs {v}, found {:?}", actual_refs.get(k)));
                }
            }
            for (k, v) in &actual_refs {
                if !expected_refs.contains_key(k) {
                    problems.push(format!("subtree_member {k:?} with refs {v} should not exist"));
                }
            }
        }
        let mut distinct: HashMap<&str, i64> = HashMap::new();
        for (a, _) in expected_refs.keys() {
            *distinct.entry(a.as_str()).or_default() += 1;
        }
        for n in &nodes {
            let want = direct.get(n.id.as_str()).copied().unwrap_or(0);
            if n.member_count != want {
                problems.push(format!("node {} member_count {} but {} members", n.id, n.member_count, want));
            }
            let want = distinct.get(n.id.as_str()).copied().unwrap_or(0);
            if n.subtree_member_count != want {
                problems.push(format!("node {} subtree_member_count {} but {} distinct users", n.id, n.subtree_member_count, want));
            }
        }
        Ok(problems)
    }
}
