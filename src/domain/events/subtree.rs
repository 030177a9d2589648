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

/// Users per entered or left event: a move of many users costs one event per this many.
pub const PAGE: usize = 1000;

/// How long a subscriber's watch lasts after it last listened (seconds): a subscriber that comes
/// back with `after` within it misses no crossing.
pub const WATCH_KEEP: i64 = 24 * 3600;

/// How often an open subscription renews its watch.
pub const WATCH_RENEW: std::time::Duration = std::time::Duration::from_secs(3600);

/// A live subscriber's watch of a subtree, renewed while it listens.
#[derive(Clone)]
pub struct Watch {
    writer: Writer,
    pool: PoolId,
    node: String,
}

impl Watch {
    /// Watch the subtree of department `node` of `pool` (refused when the pool has no such
    /// department) for [`WATCH_KEEP`] from now.
    pub async fn start(writer: &Writer, pool: &PoolId, node: &str) -> AppResult<Self> {
        let node = crate::domain::org_tree::find_node(writer.db(), pool, node).await.map_err(|e| match e {
            AppError::NotFound { .. } => AppError::invalid("subtreeOf", format!("{node:?} is not a department of this user pool")),
            other => other,
        })?;
        let watch = Watch { writer: writer.clone(), pool: pool.clone(), node: node.id };
        watch.renew().await?;
        Ok(watch)
    }

    /// Keep watching for [`WATCH_KEEP`] from now.
    pub async fn renew(&self) -> AppResult<()> {
        let now = chrono::Utc::now().timestamp();
        self.writer
            .write_plain(self.pool.actor(), async |txn| subtree::watch(txn, self.pool.as_str(), &self.node, now + WATCH_KEEP, now).await)
            .await
    }
}

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

/// The `LIKE` pattern of [`within`] (`%`, `_` and `\` in the id matched literally, `\` escaping).
pub fn like_pattern(node: &str) -> String {
    format!("%/{}/%", node.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
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

/// The entered and left events of the open transaction of `pool`, for the subtrees watched now:
/// per subtree those who left then those who entered, by department, in pages of [`PAGE`].
pub async fn crossings(db: &impl ConnectionTrait, pool: &PoolId) -> AppResult<Vec<DomainEvent>> {
    let watched = subtree::watched(db, pool.as_str(), chrono::Utc::now().timestamp()).await?;
    if watched.is_empty() {
        return Ok(Vec::new());
    }
    let rows = subtree::crossings(db, pool.as_str(), &watched).await?;
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
        assert_eq!(like_pattern("a_%"), "%/a\\_\\%/%");
    }
}
