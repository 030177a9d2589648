//! The org chart as it was at an instant (`asOf`): an organization's whole tree then (each
//! department's place, fields, depth), its leaders and members then, a user's departments then.
//! An instant after now answers the tree as it is (no change is planned yet). An instant before
//! the history kept (before the organization existed, or before the retention's horizon) is
//! refused.

use chrono::{DateTime, Duration, Utc};
use entity::{membership, node, org, user};

use super::HistoryService;
use crate::{
    domain::{
        PoolId,
        pagination::{Page, Paginated, TimestampOrder},
    },
    error::{AppError, AppResult},
    storage::history::as_of,
};

/// An organization as it was at `at`: its departments in display order (by depth, then `order`,
/// larger first, then age), each with its depth then.
#[derive(Debug, Clone)]
pub struct TreeAt {
    pub at: DateTime<Utc>,
    pub org: org::Model,
    pub nodes: Vec<node::Model>,
}

/// How long after an instant every transaction stamped before it has committed: a write commits
/// right after it is stamped, and no request runs this long. A past instant older than this is
/// settled: the tree as of it never changes again, and may be kept.
pub const SETTLED_AFTER: Duration = Duration::seconds(60);

/// Whether the tree as of `at` can no longer change.
pub fn settled(at: DateTime<Utc>) -> bool {
    at < Utc::now() - SETTLED_AFTER
}

impl HistoryService {
    /// The instant `text` (RFC 3339) names, for the argument `field`; refused before the
    /// retention's horizon, where history is no longer kept.
    pub fn instant(&self, field: &str, text: &str) -> AppResult<DateTime<Utc>> {
        let at = crate::domain::docs::parse_instant(field, text)?;
        if let Some(days) = self.retention_days {
            let horizon = Utc::now() - Duration::days(i64::from(days));
            if at < horizon {
                return Err(AppError::invalid(field, format!("history is kept for {days} days: {field} must be after {}", horizon.to_rfc3339())));
            }
        }
        Ok(at)
    }

    /// Organization `org_id` of `pool` as it was at `at`.
    pub async fn org_at(&self, pool: &PoolId, org_id: &str, at: DateTime<Utc>) -> AppResult<TreeAt> {
        let org = as_of::org_at(&self.db, pool.as_str(), org_id, at).await?.ok_or_else(|| AppError::not_found("org", org_id))?;
        let nodes = display_order(as_of::org_nodes_at(&self.db, &org.id, at).await?);
        Ok(TreeAt { at, org, nodes })
    }

    /// Department `node_id` of `pool` as it was at `at` (depth and counts not set).
    pub async fn node_at(&self, pool: &PoolId, node_id: &str, at: DateTime<Utc>) -> AppResult<node::Model> {
        as_of::node_at(&self.db, pool.as_str(), node_id, at).await?.ok_or_else(|| AppError::not_found("node", node_id))
    }

    /// The leaders of department `node_id` at `at`, in order.
    pub async fn leaders_at(&self, node_id: &str, at: DateTime<Utc>) -> AppResult<Vec<String>> {
        as_of::leaders_at(&self.db, node_id, at).await
    }

    /// A page of the members of department `node` at `at` (`subtree`: of its subtree then,
    /// each user once), each user as it was then (deleted since or not).
    pub async fn members_at(&self, node: &node::Model, at: DateTime<Utc>, subtree: bool, order: TimestampOrder, page: Page) -> AppResult<Paginated<user::Model>> {
        as_of::members_at(&self.db, node, at, subtree, order, page).await
    }

    /// The memberships of user `user_id` at `at` (of one organization when `org_id` is given),
    /// the main department first.
    pub async fn user_memberships_at(&self, pool: &PoolId, user_id: &str, org_id: Option<&str>, at: DateTime<Utc>) -> AppResult<Vec<membership::Model>> {
        as_of::user_memberships_at(&self.db, pool.as_str(), user_id, org_id, at).await
    }
}

/// `nodes` of one tree with their depths set, in display order as `OrgService::nodes_of` gives
/// the current tree: by depth, then `order` (larger first, none last), then age. A node whose
/// parent is missing (which no committed tree has) is left out rather than placed wrongly.
fn display_order(nodes: Vec<node::Model>) -> Vec<node::Model> {
    use std::{cmp::Ordering, collections::HashMap};
    let mut children: HashMap<Option<String>, Vec<node::Model>> = HashMap::new();
    for n in nodes {
        children.entry(n.parent_id.clone()).or_default().push(n);
    }
    let mut out = Vec::new();
    let mut level = children.remove(&None).unwrap_or_default();
    let mut depth = 0;
    while !level.is_empty() {
        let mut next = Vec::new();
        for mut n in level {
            n.depth = depth;
            next.extend(children.remove(&Some(n.id.clone())).unwrap_or_default());
            out.push(n);
        }
        level = next;
        depth += 1;
    }
    let larger_first = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    out.sort_by(|a, b| a.depth.cmp(&b.depth).then(larger_first(a.order, b.order)).then(a.created_at.cmp(&b.created_at)).then(a.id.cmp(&b.id)));
    out
}
