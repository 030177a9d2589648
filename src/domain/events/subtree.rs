//! Subtree scopes: a subscriber or a webhook that watches a department (`subtreeOf`) receives the
//! events inside its subtree at commit time, and, for each user a commit brings into it or takes
//! out of it, `organization:subtree-member-entered` / `-left`, so that its copy of the subtree's
//! members stays exact without reading it again.
//!
//! An event's `scope` names the departments it concerns and all their ancestors then
//! (`/id/id/.../`): it is inside the subtree of each. The crossings are computed for the
//! subtrees watched at commit time only (a webhook's, or a live subscriber's, kept
//! [`WATCH_KEEP`] after it last listened so that it can resume), in the writing transaction,
//! from its unstamped versions (`storage::tree::subtree`): one rule for every change that moves
//! users, whatever the surface.

use std::collections::{BTreeSet, HashMap};

use entity::{event, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::DomainEvent;
use crate::{
    domain::{PoolId, docs::UserDoc, write::Writer},
    error::{AppError, AppResult},
    storage::{history::as_of::users_deleted_now, tree::subtree},
};

pub use crate::storage::tree::subtree::moved_anyone;

/// On PostgreSQL, order the pool's writers that read crossings, and the watches that start, by
/// a lock held to the commit: a watch committed before a change is seen by it.
pub async fn lock_pool(db: &impl ConnectionTrait, pool: &PoolId) -> AppResult<()> {
    subtree::lock_pool(db, pool.as_str()).await
}

/// Users per entered or left event: a move of many users costs one event per this many.
pub const PAGE: usize = 1000;

/// How long a subscriber's watch lasts after it last listened (seconds): a subscriber that comes
/// back with `after` within it misses no crossing.
pub const WATCH_KEEP: i64 = 24 * 3600;

/// How often an open subscription renews its watch.
pub const WATCH_RENEW: std::time::Duration = std::time::Duration::from_secs(3600);

/// A live subscriber's watch of a subtree, renewed while it listens and once more when it
/// goes away.
pub struct Watch(Option<Watched>);

/// The subtree a watch keeps watched.
#[derive(Clone)]
struct Watched {
    writer: Writer,
    pool: PoolId,
    node: String,
}

impl Watch {
    /// Watch the subtree of department `node` of `pool` (refused when the pool has no such
    /// department) for [`WATCH_KEEP`] from now.
    pub async fn start(writer: &Writer, pool: &PoolId, node: &str) -> AppResult<Self> {
        let node = crate::domain::org_tree::find_node(writer.db(), pool, node).await?;
        let watched = Watched { writer: writer.clone(), pool: pool.clone(), node: node.id };
        watched.renew().await?;
        Ok(Watch(Some(watched)))
    }

    /// Keep watching for [`WATCH_KEEP`] from now (no write when the watch lasts nearly that
    /// long already).
    pub async fn renew(&self) -> AppResult<()> {
        match &self.0 {
            Some(watched) => watched.renew().await,
            None => Ok(()),
        }
    }
}

impl Drop for Watch {
    /// A subscriber that goes away is watched for [`WATCH_KEEP`] from then, so that it can
    /// resume with `after`.
    fn drop(&mut self) {
        if let (Some(watched), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(async move {
                if let Err(e) = watched.renew().await {
                    tracing::warn!(error = %e, "renewing a closed subscription's subtree watch failed");
                }
            });
        }
    }
}

impl Watched {
    /// No write when a watch of the subtree lasts nearly [`WATCH_KEEP`] already (within
    /// [`RENEWED_WITHIN`]). A pool watches at most [`MAX_WATCHED`] subtrees.
    async fn renew(&self) -> AppResult<()> {
        let now = chrono::Utc::now().timestamp();
        let until = now + WATCH_KEEP;
        if subtree::watched_until(self.writer.db(), self.pool.as_str(), &self.node).await?.is_some_and(|t| t > until - RENEWED_WITHIN) {
            return Ok(());
        }
        let (pool, node) = (self.pool.as_str(), self.node.as_str());
        self.writer
            .write_plain(self.pool.actor(), async |txn| {
                may_watch(txn, &self.pool, node).await?;
                subtree::watch(txn, pool, node, until, now).await
            })
            .await
    }
}

/// In the transaction that starts watching `node`: take the pool's crossing lock (the watch is
/// then ordered against the pool's changes, see [`lock_pool`]), and check that `pool` may watch
/// it too: it watches it already, or fewer than [`MAX_WATCHED`].
pub async fn may_watch(db: &impl ConnectionTrait, pool: &PoolId, node: &str) -> AppResult<()> {
    lock_pool(db, pool).await?;
    let watched = watched_now(db, pool).await?;
    if watched.len() >= MAX_WATCHED && !watched.iter().any(|w| w == node) {
        return Err(AppError::invalid("subtreeOf", format!("this user pool watches {MAX_WATCHED} subtrees already; watch a department above them")));
    }
    Ok(())
}

/// Most subtrees one pool watches at once (its webhooks' and its subscribers'): every commit of
/// the pool computes the crossings of each.
pub const MAX_WATCHED: usize = 200;

/// A watch that lasts this much less than [`WATCH_KEEP`] is not written again (seconds).
const RENEWED_WITHIN: i64 = 600;

/// What puts one recorded event inside subtrees.
#[derive(Debug, Clone)]
pub enum ScopeOf {
    /// Departments, each with its ancestors at commit time (one gone from the tree: by itself).
    Departments(Vec<String>),
    /// A user, through the departments they belong to at commit time.
    User(String),
    /// Exactly this scope (a crossing belongs to its subtree only).
    Fixed(String),
    None,
}

impl ScopeOf {
    pub fn of(event: &DomainEvent) -> Self {
        match event {
            DomainEvent::SubtreeMemberEntered { subtree_root_id, .. } | DomainEvent::SubtreeMemberLeft { subtree_root_id, .. } => {
                ScopeOf::Fixed(format!("/{subtree_root_id}/"))
            }
            _ => {
                let departments = event.departments();
                if !departments.is_empty() {
                    ScopeOf::Departments(departments.into_iter().map(str::to_string).collect())
                } else if let Some(user) = event.user_id() {
                    ScopeOf::User(user.to_string())
                } else {
                    ScopeOf::None
                }
            }
        }
    }
}

/// `/a/b/c/`: the ids, sorted and once each.
fn scope_text<'a>(ids: impl IntoIterator<Item = &'a String>) -> Option<String> {
    let ids: BTreeSet<&String> = ids.into_iter().collect();
    if ids.is_empty() {
        return None;
    }
    Some(ids.into_iter().fold(String::from("/"), |mut s, id| {
        s.push_str(id);
        s.push('/');
        s
    }))
}

/// Whether an event of `scope` is inside the subtree of `node`.
pub fn within(scope: Option<&str>, node: &str) -> bool {
    scope.is_some_and(|s| s.contains(&format!("/{node}/")))
}

/// [`within`] as a condition on `event.scope` (the same on both databases: exact and
/// case-sensitive, unlike SQLite's `LIKE`).
pub fn within_condition(node: &str) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    let scope = || Expr::col(event::Column::Scope);
    Expr::expr(Func::cust("replace").arg(scope()).arg(format!("/{node}/")).arg("")).ne(scope())
}

/// Give each event its scope, read in the transaction about to commit.
pub async fn fill_scopes(db: &impl ConnectionTrait, events: &mut [event::Model], scopes: &[ScopeOf]) -> AppResult<()> {
    let mut departments: Vec<String> = Vec::new();
    let mut users: Vec<String> = Vec::new();
    for s in scopes {
        match s {
            ScopeOf::Departments(ids) => departments.extend(ids.iter().cloned()),
            ScopeOf::User(id) => users.push(id.clone()),
            _ => {}
        }
    }
    departments.sort();
    departments.dedup();
    users.sort();
    users.dedup();
    let of_departments = if departments.is_empty() { HashMap::new() } else { subtree::ancestors_of_departments(db, &departments).await? };
    let of_users = if users.is_empty() { HashMap::new() } else { subtree::ancestors_of_users(db, &users).await? };
    for (e, s) in events.iter_mut().zip(scopes) {
        e.scope = match s {
            ScopeOf::Departments(ids) => {
                scope_text(ids.iter().flat_map(|id| of_departments.get(id).map_or_else(|| std::slice::from_ref(id), Vec::as_slice)))
            }
            ScopeOf::User(id) => of_users.get(id).and_then(scope_text),
            ScopeOf::Fixed(s) => Some(s.clone()),
            ScopeOf::None => None,
        };
    }
    Ok(())
}

/// The subtrees of `pool` watched now.
pub async fn watched_now(db: &impl ConnectionTrait, pool: &PoolId) -> AppResult<Vec<String>> {
    subtree::watched(db, pool.as_str(), chrono::Utc::now().timestamp()).await
}

/// The entered and left events of the open transaction of `pool`, for the `watched` subtrees:
/// per subtree those who left then those who entered, by department, in pages of [`PAGE`].
pub async fn crossings(db: &impl ConnectionTrait, pool: &PoolId, watched: &[String]) -> AppResult<Vec<DomainEvent>> {
    if watched.is_empty() {
        return Ok(Vec::new());
    }
    let rows = subtree::crossings(db, pool.as_str(), watched).await?;
    let mut events = Vec::new();
    for group in rows.chunk_by(|a, b| a.root == b.root && a.entered == b.entered && a.department_id == b.department_id) {
        for page in group.chunks(PAGE) {
            let ids: Vec<String> = page.iter().map(|c| c.user_id.clone()).collect();
            let users = docs_of(db, &ids).await?;
            let first = &page[0];
            let (subtree_root_id, department_id, org_id) = (first.root.clone(), first.department_id.clone(), first.org_id.clone());
            events.push(if first.entered != 0 {
                DomainEvent::SubtreeMemberEntered { subtree_root_id, department_id, users, org_id }
            } else {
                DomainEvent::SubtreeMemberLeft { subtree_root_id, department_id, users, org_id }
            });
        }
    }
    Ok(events)
}

/// The users of `ids`, in that order, as events carry them: as they are now, or as their last
/// version shows a user the transaction deleted.
async fn docs_of(db: &impl ConnectionTrait, ids: &[String]) -> AppResult<Vec<UserDoc>> {
    let mut found: HashMap<String, user::Model> =
        user::Entity::find().filter(user::Column::Id.is_in(ids.to_vec())).all(db).await?.into_iter().map(|u| (u.id.clone(), u)).collect();
    let missing: Vec<String> = ids.iter().filter(|id| !found.contains_key(*id)).cloned().collect();
    for u in users_deleted_now(db, &missing).await? {
        found.insert(u.id.clone(), u);
    }
    Ok(ids.iter().filter_map(|id| found.remove(id)).map(UserDoc::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_names_each_department_once_and_matches_whole_ids() {
        let ids = ["b".to_string(), "a".to_string(), "b".to_string()];
        let scope = scope_text(&ids);
        assert_eq!(scope.as_deref(), Some("/a/b/"));
        assert!(within(scope.as_deref(), "a"));
        assert!(!within(scope.as_deref(), "ab"));
        assert!(!within(None, "a"));
    }
}
