//! Writing a checked [`Plan`]: users, then nodes (parents first), then memberships, each in
//! transactions of at most `batch` rows. Every row is idempotent by its natural key, so a run
//! that was interrupted (killed, Ctrl-C, `--limit`) is finished by running the same import again:
//! - a user exists when a user of the pool has its id, or any of its identifiers (username,
//!   email, phone, externalId);
//! - an organization exists when a root of the pool has its root's code (or, without a code,
//!   the same name and no code); a node exists when its org has a node of its code (or, without
//!   a code, its parent has a child of that name without a code);
//! - a membership exists when the user is a member of the node.
//!
//! Existing rows are skipped, never changed. Nodes and memberships go through the domain's
//! in-transaction halves (`create_org_in`, `add_node_in`, `update_node_in` for leaders,
//! `add_members_in`), so closure, fan-out and counts stay right after every batch. The events
//! those record are dropped: an import publishes none (see README).

use std::collections::{HashMap, HashSet};

use entity::{membership, node, user};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect};

use super::{CompanyService, plan::{NodePlan, Plan, UserPlan, identifiers}};
use crate::{
    domain::{
        PoolId,
        events::Outbox,
        org_tree::{NodePatch, add_members_in, add_node_in, create_org_with_root_in, update_node_in},
    },
    error::{AppError, AppResult},
    ids,
    storage::{self, sql},
};

#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Rows per transaction.
    pub batch: usize,
    /// Stop after this many rows (in file order: users, nodes, memberships); a later run goes on.
    pub limit: Option<usize>,
}

/// Told as rows are written.
pub trait Progress {
    fn advance(&self, phase: &'static str, rows: usize);
}

/// Rows created and skipped, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub nodes: usize,
    pub users: usize,
    pub memberships: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.nodes + self.users + self.memberships
    }
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub created: Counts,
    pub skipped: Counts,
    /// `--limit` stopped the run before the end: run it again to finish.
    pub stopped_early: bool,
}

/// Most rows of one multi-row user insert (about 50 columns each: within SQLite's 32,766
/// parameters).
const USERS_PER_INSERT: usize = 300;

impl CompanyService {
    /// Write `plan` into `pool` in transactions of `options.batch` rows.
    pub async fn import(&self, pool: &PoolId, plan: &Plan, options: ImportOptions, progress: &dyn Progress) -> AppResult<Summary> {
        let batch = options.batch.max(1);
        let mut budget = options.limit.unwrap_or(usize::MAX);
        let mut summary = Summary::default();
        let mut take = |len: usize, summary: &mut Summary| {
            let n = len.min(budget);
            budget -= n;
            if n < len {
                summary.stopped_early = true;
            }
            n
        };

        let (mut user_stats, mut node_stats, mut member_stats) = (Upkeep::default(), Upkeep::default(), Upkeep::default());
        let mut user_ids: Vec<String> = Vec::with_capacity(plan.users.len());
        for chunk in plan.users.chunks(batch) {
            let chunk = &chunk[..take(chunk.len(), &mut summary)];
            if chunk.is_empty() {
                return Ok(summary);
            }
            let done = self.writer.write_plain(async |txn| import_users(txn, pool, chunk).await).await?;
            for (id, created) in done {
                if created { summary.created.users += 1 } else { summary.skipped.users += 1 }
                user_ids.push(id);
            }
            user_stats.after_batch(self.writer.db(), &["users"], user_ids.len()).await?;
            progress.advance("users", chunk.len());
        }

        // (node id, org id) of each node of the plan, in plan order.
        let mut node_ids: Vec<(String, String)> = Vec::with_capacity(plan.nodes.len());
        for (n, chunk) in plan.nodes.chunks(batch).enumerate() {
            let chunk = &chunk[..take(chunk.len(), &mut summary)];
            if chunk.is_empty() {
                return Ok(summary);
            }
            let first = n * batch;
            let done = self
                .writer
                .write_plain(async |txn| {
                    let mut outbox = Outbox::new(pool);
                    let mut done: Vec<((String, String), bool)> = Vec::with_capacity(chunk.len());
                    for (i, plan_node) in chunk.iter().enumerate() {
                        let parent = plan_node.parent.map(|p| {
                            if p < first { node_ids[p].clone() } else { done[p - first].0.clone() }
                        });
                        let r = import_node(txn, &mut outbox, pool, plan_node, parent, &user_ids).await;
                        done.push(r.map_err(|e| at_row(&chunk[i].at, e))?);
                    }
                    Ok(done)
                })
                .await?;
            for (ids, created) in done {
                if created { summary.created.nodes += 1 } else { summary.skipped.nodes += 1 }
                node_ids.push(ids);
            }
            node_stats.after_batch(self.writer.db(), &["node", "node_closure"], node_ids.len()).await?;
            progress.advance("departments", chunk.len());
        }

        for chunk in plan.memberships.chunks(batch) {
            let chunk = &chunk[..take(chunk.len(), &mut summary)];
            if chunk.is_empty() {
                return Ok(summary);
            }
            let rows: Vec<Member> = chunk
                .iter()
                .map(|m| Member { node: node_ids[m.node].0.clone(), user: user_ids[m.user].clone(), leader: m.leader, main: m.main })
                .collect();
            let created = self.writer.write_plain(async |txn| import_members(txn, pool, &rows).await).await?;
            summary.created.memberships += created;
            summary.skipped.memberships += chunk.len() - created;
            member_stats.after_batch(self.writer.db(), &["membership", "subtree_member"], summary.created.memberships + summary.skipped.memberships).await?;
            progress.advance("memberships", chunk.len());
        }
        storage::analyze(self.writer.db(), &["users", "node", "node_closure", "membership", "subtree_member"]).await?;
        Ok(summary)
    }
}

/// Upkeep after each batch: on SQLite, checkpoint the WAL (the server's background checkpointer
/// does not run here, and connections never checkpoint on their own); on PostgreSQL, refresh the
/// statistics of the tables a phase fills each time its rows doubled (a handful of `ANALYZE`s).
#[derive(Default)]
struct Upkeep {
    next: usize,
}

impl Upkeep {
    async fn after_batch(&mut self, db: &sea_orm::DatabaseConnection, tables: &[&str], rows: usize) -> AppResult<()> {
        storage::checkpoint(db).await?;
        if rows < self.next {
            return Ok(());
        }
        self.next = rows.max(1_000) * 2;
        storage::analyze(db, tables).await
    }
}

/// A write-time error, saying which row caused it.
fn at_row(at: &str, e: AppError) -> AppError {
    match e {
        AppError::InvalidInput { field, message } => AppError::InvalidInput { field, message: format!("{at}: {message}") },
        AppError::Conflict { field, message } => AppError::Conflict { field, message: format!("{at}: {message}") },
        AppError::NotFound { entity, id } => AppError::InvalidInput { field: None, message: format!("{at}: {entity} not found: {id}") },
        other => other,
    }
}

/// Create the users of `chunk` that do not exist yet; each one's id and whether it was created.
/// A file's id is kept when it has the shape of an orgraph id and no user has it.
async fn import_users(txn: &DatabaseTransaction, pool: &PoolId, chunk: &[UserPlan]) -> AppResult<Vec<(String, bool)>> {
    let keys: Vec<String> = chunk.iter().map(|u| u.key.clone()).collect();
    let by_id: Vec<(String, String)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::UserPoolId)
        .filter(user::Column::Id.is_in(keys))
        .into_tuple()
        .all(txn)
        .await?;
    let in_pool: HashSet<&str> = by_id.iter().filter(|(_, p)| p == pool.as_str()).map(|(id, _)| id.as_str()).collect();
    let taken: HashSet<&str> = by_id.iter().map(|(id, _)| id.as_str()).collect();
    let mut wanted: HashMap<&'static str, Vec<String>> = HashMap::new();
    for u in chunk {
        for (field, value) in identifiers(&u.row) {
            wanted.entry(field).or_default().push(value);
        }
    }
    // One statement per identifier, each an index range (an OR of them would walk the pool).
    let mut found = Vec::new();
    for (field, values) in &wanted {
        let column = match *field {
            "username" => user::Column::Username,
            "email" => user::Column::Email,
            "phone" => user::Column::Phone,
            _ => user::Column::ExternalId,
        };
        found.extend(user::Entity::find().filter(user::Column::UserPoolId.eq(pool.as_str())).filter(column.is_in(values.clone())).all(txn).await?);
    }
    let mut owner: HashMap<(&'static str, String), String> = HashMap::new();
    for u in &found {
        for (field, value) in [("username", &u.username), ("email", &u.email), ("phone", &u.phone), ("externalId", &u.external_id)] {
            if let Some(v) = value {
                owner.insert((field, v.clone()), u.id.clone());
            }
        }
    }
    let mut out = Vec::with_capacity(chunk.len());
    let mut new_rows = Vec::new();
    for u in chunk {
        if in_pool.contains(u.key.as_str()) {
            out.push((u.key.clone(), false));
            continue;
        }
        if let Some(id) = identifiers(&u.row).into_iter().find_map(|k| owner.get(&k).cloned()) {
            out.push((id, false));
            continue;
        }
        let id = if is_orgraph_id(&u.key) && !taken.contains(u.key.as_str()) { u.key.clone() } else { ids::new_id() };
        let mut row = u.row.clone();
        row.id = sea_orm::ActiveValue::Set(id.clone());
        row.user_pool_id = sea_orm::ActiveValue::Set(pool.as_str().to_string());
        new_rows.push(row);
        out.push((id, true));
    }
    for rows in new_rows.chunks(USERS_PER_INSERT) {
        user::Entity::insert_many(rows.to_vec()).exec(txn).await?;
    }
    Ok(out)
}

fn is_orgraph_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Find or create one node; `parent` is its parent's (node id, org id). Its (node id, org id),
/// and whether it was created.
async fn import_node(
    txn: &DatabaseTransaction,
    outbox: &mut Outbox,
    pool: &PoolId,
    plan: &NodePlan,
    parent: Option<(String, String)>,
    user_ids: &[String],
) -> AppResult<((String, String), bool)> {
    let input = plan.input.clone();
    let mut q = node::Entity::find().filter(node::Column::UserPoolId.eq(pool.as_str()));
    q = match (&parent, &input.code) {
        (None, Some(code)) => q.filter(node::Column::ParentId.is_null()).filter(node::Column::Code.eq(code.as_str())),
        (None, None) => q.filter(node::Column::ParentId.is_null()).filter(node::Column::Code.is_null()).filter(node::Column::Name.eq(input.name.as_str())),
        (Some((_, org)), Some(code)) => q.filter(node::Column::OrgId.eq(org.as_str())).filter(node::Column::Code.eq(code.as_str())),
        (Some((p, _)), None) => q.filter(node::Column::ParentId.eq(p.as_str())).filter(node::Column::Code.is_null()).filter(node::Column::Name.eq(input.name.as_str())),
    };
    if let Some(existing) = q.one(txn).await? {
        return Ok(((existing.id, existing.org_id), false));
    }
    let node = match &parent {
        None => {
            let (org, root) = create_org_with_root_in(txn, outbox, pool, input, None).await?;
            (root.id, org.id)
        }
        Some((parent_id, org_id)) => {
            let n = add_node_in(txn, outbox, pool, org_id, Some(parent_id), input).await?;
            (n.id, n.org_id)
        }
    };
    if !plan.leaders.is_empty() {
        let leaders = plan.leaders.iter().map(|&u| user_ids[u].clone()).collect();
        update_node_in(txn, outbox, pool, &node.0, NodePatch { leader_user_ids: Some(leaders), ..Default::default() }).await?;
    }
    Ok((node, true))
}

struct Member {
    node: String,
    user: String,
    leader: bool,
    main: bool,
}

/// Add the memberships of `rows` (grouped by node) that do not exist yet; how many were added.
async fn import_members(txn: &DatabaseTransaction, pool: &PoolId, rows: &[Member]) -> AppResult<usize> {
    let users: Vec<String> = rows.iter().map(|m| m.user.clone()).collect::<HashSet<_>>().into_iter().collect();
    let mut existing: HashSet<(String, String)> = HashSet::new();
    for chunk in users.chunks(10_000) {
        let found: Vec<(String, String)> = membership::Entity::find()
            .select_only()
            .column(membership::Column::NodeId)
            .column(membership::Column::UserId)
            .filter(membership::Column::UserId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(txn)
            .await?;
        existing.extend(found);
    }
    let mut outbox = Outbox::new(pool);
    let mut created = 0;
    let mut start = 0;
    while start < rows.len() {
        let node = &rows[start].node;
        let end = start + rows[start..].iter().take_while(|m| &m.node == node).count();
        let new: Vec<&Member> = rows[start..end].iter().filter(|m| !existing.contains(&(m.node.clone(), m.user.clone()))).collect();
        for leader in [false, true] {
            let ids: Vec<String> = new.iter().filter(|m| m.leader == leader).map(|m| m.user.clone()).collect();
            if !ids.is_empty() {
                add_members_in(txn, &mut outbox, pool, node, &ids, leader.then_some(true)).await?;
            }
        }
        // The main department: the same change as `set_main_department`, for the group at once.
        let mains: Vec<String> = new.iter().filter(|m| m.main).map(|m| m.user.clone()).collect();
        if !mains.is_empty() {
            let mut values = vec![node.clone().into()];
            values.extend(sql::strings(&mains));
            sql::exec(txn, &format!(
                "UPDATE membership SET is_main_department = (node_id = $1) WHERE user_id IN ({})",
                sql::placeholders(2, mains.len())), values).await?;
        }
        created += new.len();
        start = end;
    }
    Ok(created)
}
