//! The org chart as it was at an instant (`asOf`): an organization's whole tree then (each
//! department's place, fields, depth), its leaders and members then, a user's departments then.
//! An instant after now answers the tree as planned for it: the current tree with the pending
//! scheduled batches due by then applied (a preview, `schedule::Preview`). An instant before the
//! history kept (before the organization existed, or before the retention's horizon) is refused.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use chrono::{DateTime, Duration, Utc};
use entity::{membership, node, org, scheduled_change, user};

use super::HistoryService;
use crate::{
    domain::{
        PoolId,
        pagination::{Page, Paginated, TimestampOrder},
        schedule::Preview,
    },
    error::{AppError, AppResult},
    storage::history::as_of,
};

/// An instant to read at, and for a future one the preview of the planned tree it is read from
/// (none when no pending batch is due by then).
#[derive(Clone)]
pub struct AsOf {
    pub at: DateTime<Utc>,
    pub preview: Option<Arc<Preview>>,
}

/// Two reads are of the same instant when they read the same versions.
impl PartialEq for AsOf {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.preview.as_ref().map(Arc::as_ptr) == other.preview.as_ref().map(Arc::as_ptr)
    }
}

impl Eq for AsOf {}

impl std::fmt::Debug for AsOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsOf").field("at", &self.at).field("preview", &self.preview.is_some()).finish()
    }
}

impl std::hash::Hash for AsOf {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.at.hash(state);
    }
}

/// Read `$read` (an expression over the connection `$db`) as of `$as_of`: in its preview's
/// transaction when it has one, else from the database.
macro_rules! read_at {
    ($self:ident, $as_of:expr, |$db:ident| $read:expr) => {
        match &$as_of.preview {
            Some(preview) => preview.read(async |$db| $read.await).await,
            None => {
                let $db = &$self.db;
                $read.await
            }
        }
    };
}

/// An organization as it was at `at`: its departments in display order (by depth, then `order`,
/// larger first, then age), each with its depth then. In a preview, the batches applied by then
/// and the departments they added, changed or moved are `planned`.
#[derive(Clone)]
pub struct TreeAt {
    pub as_of: AsOf,
    pub org: org::Model,
    pub nodes: Vec<node::Model>,
    pub planned: Vec<scheduled_change::Model>,
    pub planned_nodes: HashSet<String>,
    /// Whether a planned batch changes a department of the organization or a membership in one.
    pub planned_org: bool,
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

    /// The instant `at` of `pool` to read at, with the preview of its planned tree when it is
    /// in the future and a pending batch is due by then.
    pub async fn as_of(&self, pool: &PoolId, at: DateTime<Utc>) -> AppResult<AsOf> {
        Ok(AsOf { at, preview: self.previews.for_instant(pool, at).await? })
    }

    /// Organization `org_id` of `pool` as it was (or is planned to be) at `as_of`.
    pub async fn org_at(&self, pool: &PoolId, org_id: &str, as_of: &AsOf) -> AppResult<TreeAt> {
        let at = as_of.at;
        let began = as_of.preview.as_ref().map(|p| p.began);
        let (org, versions, planned_org) = read_at!(self, as_of, |db| async {
            let Some(org) = as_of::org_at(db, pool.as_str(), org_id, at).await? else { return Ok((None, Vec::new(), false)) };
            let nodes = as_of::org_nodes_at(db, &org.id, at).await?;
            let planned = match began {
                Some(began) => as_of::org_changed_between(db, &org.id, began, at).await?,
                None => false,
            };
            Ok::<_, AppError>((Some(org), nodes, planned))
        })?;
        let org = org.ok_or_else(|| AppError::not_found("org", org_id))?;
        let (planned, planned_nodes) = match &as_of.preview {
            Some(preview) => (
                preview.batches_by(at).cloned().collect(),
                versions.iter().filter(|v| v.valid_from >= preview.began).map(|v| v.row.id.clone()).collect(),
            ),
            None => (Vec::new(), HashSet::new()),
        };
        let nodes = display_order(versions.into_iter().map(|v| v.row).collect());
        Ok(TreeAt { as_of: as_of.clone(), org, nodes, planned, planned_nodes, planned_org })
    }

    /// Department `node_id` of `pool` as it was at `as_of` (depth and counts not set).
    pub async fn node_at(&self, pool: &PoolId, node_id: &str, as_of: &AsOf) -> AppResult<node::Model> {
        read_at!(self, as_of, |db| as_of::node_at(db, pool.as_str(), node_id, as_of.at))?.ok_or_else(|| AppError::not_found("node", node_id))
    }

    /// The leaders of department `node_id` at `as_of`, in order.
    pub async fn leaders_at(&self, node_id: &str, as_of: &AsOf) -> AppResult<Vec<String>> {
        read_at!(self, as_of, |db| as_of::leaders_at(db, node_id, as_of.at))
    }

    /// A page of the members of department `node` at `as_of` (`subtree`: of its subtree then,
    /// each user once), each user as it was then (deleted since or not); counted unless `known`.
    pub async fn members_at(
        &self,
        node: &node::Model,
        as_of: &AsOf,
        subtree: bool,
        order: TimestampOrder,
        page: Page,
        known: Option<u64>,
    ) -> AppResult<Paginated<user::Model>> {
        read_at!(self, as_of, |db| as_of::members_at(db, node, as_of.at, subtree, order, page, known))
    }

    /// How many members each department of organization `org_id` had at `as_of`, its own and
    /// its subtree's, from one read of the organization's memberships then. `parents` are the
    /// tree's departments then with their parents.
    pub async fn member_counts_at(&self, org_id: &str, as_of: &AsOf, parents: &[(&str, Option<&str>)]) -> AppResult<MemberCounts> {
        let pairs = read_at!(self, as_of, |db| as_of::org_memberships_at(db, org_id, as_of.at))?;
        Ok(MemberCounts::of_tree(parents, &pairs))
    }

    /// The memberships of user `user_id` at `as_of` (of one organization when `org_id` is
    /// given), the main department first.
    pub async fn user_memberships_at(&self, pool: &PoolId, user_id: &str, org_id: Option<&str>, as_of: &AsOf) -> AppResult<Vec<membership::Model>> {
        read_at!(self, as_of, |db| as_of::user_memberships_at(db, pool.as_str(), user_id, org_id, as_of.at))
    }
}

/// How many members each department of a tree had: its own, and its subtree's (each user once).
#[derive(Debug, Default)]
pub struct MemberCounts {
    counts: HashMap<String, (u64, u64)>,
}

impl MemberCounts {
    /// Count `pairs` ((user, department), ordered by user) over the tree `parents`: each user
    /// once in every department above one of theirs.
    fn of_tree(parents: &[(&str, Option<&str>)], pairs: &[(String, String)]) -> Self {
        let index: HashMap<&str, usize> = parents.iter().enumerate().map(|(i, (id, _))| (*id, i)).collect();
        let parent: Vec<Option<usize>> = parents.iter().map(|(_, p)| p.and_then(|p| index.get(p).copied())).collect();
        let (mut direct, mut subtree) = (vec![0u64; parents.len()], vec![0u64; parents.len()]);
        // The last user counted in each department: a user is counted once per department.
        let mut counted: Vec<Option<&str>> = vec![None; parents.len()];
        for (user, department) in pairs {
            let Some(&start) = index.get(department.as_str()) else { continue };
            direct[start] += 1;
            let mut at = Some(start);
            // Upwards until a department already counted for this user (all above it are too).
            while let Some(i) = at.filter(|&i| counted[i] != Some(user.as_str())) {
                counted[i] = Some(user.as_str());
                subtree[i] += 1;
                at = parent[i];
            }
        }
        let counts = parents.iter().enumerate().map(|(i, (id, _))| (id.to_string(), (direct[i], subtree[i]))).collect();
        MemberCounts { counts }
    }

    /// The members of department `id` (`subtree`: of its subtree, each user once).
    pub fn of(&self, id: &str, subtree: bool) -> u64 {
        self.counts.get(id).map_or(0, |&(direct, all)| if subtree { all } else { direct })
    }
}

/// `nodes` of one tree with their depths set, in display order as `OrgService::nodes_of` gives
/// the current tree: by depth, then `order` (larger first, none last), then age. A node whose
/// parent is missing (which no committed tree has) is left out rather than placed wrongly.
fn display_order(nodes: Vec<node::Model>) -> Vec<node::Model> {
    use std::cmp::Ordering;
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

#[cfg(test)]
mod tests {
    use super::MemberCounts;

    #[test]
    fn a_user_counts_once_in_each_department_above_any_of_theirs() {
        // root > a > (b, c); d under root.
        let tree = [("root", None), ("a", Some("root")), ("b", Some("a")), ("c", Some("a")), ("d", Some("root"))];
        let pairs: Vec<(String, String)> =
            [("ann", "b"), ("ann", "c"), ("ann", "d"), ("bob", "a"), ("bob", "b"), ("cat", "d"), ("dan", "gone")].iter().map(|(u, n)| (u.to_string(), n.to_string())).collect();
        let counts = MemberCounts::of_tree(&tree, &pairs);
        let all: Vec<(u64, u64)> = ["root", "a", "b", "c", "d"].iter().map(|n| (counts.of(n, false), counts.of(n, true))).collect();
        assert_eq!(all, [(0, 3), (1, 2), (2, 2), (1, 1), (2, 2)]);
        assert_eq!(counts.of("unknown", true), 0);
    }
}
