//! Scheduled reorganizations: an ordered batch of tree changes (add, update, move, delete a
//! department; move members), validated when it is scheduled against the tree as planned for its
//! time (the current tree with the pending batches due before it), stored, cancellable while
//! pending, and applied at its time as one transaction by exactly one instance. A batch that no
//! longer applies (a department it moves was deleted since) fails as a whole, keeps the reason
//! and sends `organization:scheduled-changes-failed`.
//!
//! Validation and application run the same code, `apply_in`, through the domain's own rules:
//! validation applies the planned batches in a transaction it then rolls back.

mod preview;

pub use preview::{HOLD as PREVIEW_HOLD, Preview, Previews};

use chrono::{DateTime, Utc};
use entity::{node, scheduled_change};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    PoolId,
    docs::Iso,
    events::{DomainEvent, Outbox},
    org_tree::{
        self, DepartmentPatch, NodeInput, NodePatch,
        fields::Names,
    },
    users::batch_ids,
    write::{ChangeError, Writer},
};
use crate::{
    error::{AppError, AppResult},
    ids,
    storage::sql,
};

/// Most changes in one batch, most pending batches a pool may have, and most pending changes in
/// all: checking a batch (and previewing the plan) applies the pending ones before it, so these
/// bound the work a `scheduleChanges` or a future `asOf` costs.
pub const MAX_CHANGES: usize = 500;
pub const MAX_PENDING: u64 = 100;
pub const MAX_PLANNED_CHANGES: usize = 5_000;

/// A department named in a change: by id, or by its code (unique in its organization; a code
/// several organizations of the pool use must be given with the organization or as an id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeName {
    Id(String),
    Code(String),
}

/// One change of a batch, as stored. The fields of `addNode` and `updateNode` are the
/// department's listed fields under their standard names (only those given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum OrgChange {
    /// `id` is given when the batch is scheduled, so that later batches can name it.
    AddNode { id: String, org_id: String, parent: Option<NodeName>, fields: Map<String, Value> },
    UpdateNode { node: NodeName, fields: Map<String, Value> },
    MoveNode { node: NodeName, parent: NodeName },
    DeleteNode { node: NodeName },
    MoveMembers { user_ids: Vec<String>, source: NodeName, target: NodeName },
}

impl OrgChange {
    /// A change adding a department: its id is given now.
    pub fn add_node(org_id: String, parent: Option<NodeName>, fields: Map<String, Value>) -> Self {
        OrgChange::AddNode { id: ids::new_id(), org_id, parent, fields }
    }

    fn name(&self) -> &'static str {
        match self {
            OrgChange::AddNode { .. } => "addNode",
            OrgChange::UpdateNode { .. } => "updateNode",
            OrgChange::MoveNode { .. } => "moveNode",
            OrgChange::DeleteNode { .. } => "deleteNode",
            OrgChange::MoveMembers { .. } => "moveMembers",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Applied,
    Failed,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Applied => "APPLIED",
            Status::Failed => "FAILED",
            Status::Cancelled => "CANCELLED",
        }
    }

    pub fn of(model: &scheduled_change::Model) -> Self {
        match model.status.as_str() {
            "APPLIED" => Status::Applied,
            "FAILED" => Status::Failed,
            "CANCELLED" => Status::Cancelled,
            _ => Status::Pending,
        }
    }
}

/// The departments a batch adds: their codes (if given) and the ids they will have.
pub fn created_nodes(model: &scheduled_change::Model) -> Vec<(Option<String>, String)> {
    let list = model.created_nodes.as_array().cloned().unwrap_or_default();
    list.iter().filter_map(|n| Some((n["code"].as_str().map(String::from), n["id"].as_str()?.to_string()))).collect()
}

/// Why applying a batch stopped: another instance has it (or it is no longer pending), or one of
/// its changes failed.
enum Stop {
    Taken,
    Failed(AppError),
}

#[derive(Clone)]
pub struct ScheduleService {
    db: DatabaseConnection,
    writer: Writer,
    previews: Previews,
}

impl ScheduleService {
    pub fn new(writer: Writer, previews: Previews) -> Self {
        ScheduleService { db: writer.db().clone(), writer, previews }
    }

    /// Schedule `changes` for `at`, after checking they apply to the tree as planned for `at`.
    pub async fn schedule(&self, pool: &PoolId, at: DateTime<Utc>, changes: Vec<OrgChange>) -> AppResult<scheduled_change::Model> {
        if changes.is_empty() || changes.len() > MAX_CHANGES {
            return Err(AppError::invalid("changes", format!("a batch has 1 to {MAX_CHANGES} changes, got {}", changes.len())));
        }
        if at <= Utc::now() {
            return Err(AppError::invalid("at", "at must be in the future"));
        }
        // Checked and stored in one transaction: nothing can change the plan in between, and
        // two batches scheduled at once cannot both pass the limits.
        let row = self
            .writer
            .write_plain(pool.actor(), async |txn| {
                let pending = within_limits(txn, pool, 1, changes.len()).await?;
                // The check: the pending batches due before this one (in their order), then this
                // one, applied in a savepoint that is rolled back.
                let check = txn.begin().await?;
                let mut scratch = Outbox::new(pool);
                for batch in pending.iter().filter(|p| p.at <= at) {
                    apply_in(&check, &mut scratch, pool, &stored_changes(batch)?).await.map_err(planned)?;
                }
                apply_in(&check, &mut scratch, pool, &changes).await?;
                check.rollback().await?;
                store_in(txn, pool, ids::new_id(), at, changes, pool.actor(), Utc::now()).await
            })
            .await?;
        self.previews.forget(pool).await;
        Ok(row)
    }

    /// The pool's batches (of one status when given), by time, at most `limit`.
    pub async fn list(&self, pool: &PoolId, status: Option<Status>, limit: u64) -> AppResult<Vec<scheduled_change::Model>> {
        let mut q = scheduled_change::Entity::find().filter(scheduled_change::Column::UserPoolId.eq(pool.as_str()));
        if let Some(s) = status {
            q = q.filter(scheduled_change::Column::Status.eq(s.as_str()));
        }
        Ok(q.order_by_asc(scheduled_change::Column::At).order_by_asc(scheduled_change::Column::CreatedAt).limit(limit).all(&self.db).await?)
    }

    /// Cancel a pending batch; one already applied, failed or cancelled is refused.
    pub async fn cancel(&self, pool: &PoolId, id: &str) -> AppResult<scheduled_change::Model> {
        let cancelled = self
            .writer
            .write_plain(pool.actor(), async |txn| {
                let found = find(txn, pool, id).await?;
                let done = sql::exec(
                    txn,
                    "UPDATE scheduled_change SET status = $1, finished_at = $2 WHERE id = $3 AND status = $4",
                    vec![Status::Cancelled.as_str().into(), Utc::now().into(), id.into(), Status::Pending.as_str().into()],
                )
                .await?;
                if done == 0 {
                    return Err(AppError::invalid("id", format!("batch {id} is {}: only a pending batch can be cancelled", found.status)));
                }
                find(txn, pool, id).await
            })
            .await?;
        self.previews.forget(pool).await;
        Ok(cancelled)
    }

    /// Apply every batch due by now, oldest first; how many were applied or failed here.
    pub async fn apply_due(&self) -> AppResult<usize> {
        let mut done = 0;
        loop {
            let due = scheduled_change::Entity::find()
                .filter(scheduled_change::Column::Status.eq(Status::Pending.as_str()))
                .filter(scheduled_change::Column::At.lte(Utc::now()))
                .order_by_asc(scheduled_change::Column::At)
                .order_by_asc(scheduled_change::Column::CreatedAt)
                .limit(16)
                .all(&self.db)
                .await?;
            if due.is_empty() {
                return Ok(done);
            }
            let mut progressed = false;
            for batch in due {
                progressed |= self.apply(batch).await?;
                done += 1;
            }
            if !progressed {
                return Ok(done);
            }
        }
    }

    /// Apply one due batch in its author's name, unless another instance has it; a batch whose
    /// changes fail is marked failed (once) with the reason, and the failure is an event.
    /// Whether this instance settled it.
    async fn apply(&self, batch: scheduled_change::Model) -> AppResult<bool> {
        let pool = PoolId::trusted(batch.user_pool_id.clone()).acting_as(&batch.created_by);
        let changes = stored_changes(&batch)?;
        let applied = self
            .writer
            .write_declinable(&pool, async |txn, outbox| {
                if !claim(txn, &batch.id).await? {
                    return Err(ChangeError::Declined(Stop::Taken));
                }
                apply_in(txn, outbox, &pool, &changes).await.map_err(|e| ChangeError::Declined(Stop::Failed(e)))?;
                settle(txn, &batch.id, Status::Applied, None).await?;
                Ok(())
            })
            .await;
        self.previews.forget(&pool).await;
        let why = match applied {
            Ok(()) => return Ok(true),
            Err(ChangeError::Declined(Stop::Taken)) => return Ok(false),
            Err(ChangeError::Declined(Stop::Failed(e))) => e.to_string(),
            Err(ChangeError::Failed(e)) => return Err(e),
        };
        self.writer
            .write(&pool, async |txn, outbox| {
                if settle(txn, &batch.id, Status::Failed, Some(&why)).await? {
                    outbox.record(DomainEvent::ScheduledChangesFailed { id: batch.id.clone(), at: Iso(batch.at), error: why.clone() });
                }
                Ok(())
            })
            .await?;
        Ok(true)
    }
}

/// Lock `pool`'s schedule for this transaction (on PostgreSQL; SQLite has one writer) and check
/// that `batches` more batches of `changes` changes in all stay within the pool's limits. The
/// pending batches, in the order they apply.
pub(crate) async fn within_limits(txn: &DatabaseTransaction, pool: &PoolId, batches: usize, changes: usize) -> AppResult<Vec<scheduled_change::Model>> {
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        sql::exec(txn, "SELECT pg_advisory_xact_lock(hashtext($1))", vec![format!("orgraph-schedule:{}", pool.as_str()).into()]).await?;
    }
    let pending = pending(txn, pool).await?;
    if (pending.len() + batches) as u64 > MAX_PENDING {
        return Err(AppError::invalid("at", format!("a pool may have at most {MAX_PENDING} pending batches: {} are pending", pending.len())));
    }
    let planned: usize = pending.iter().map(|p| p.changes.as_array().map_or(0, Vec::len)).sum();
    if planned + changes > MAX_PLANNED_CHANGES {
        return Err(AppError::invalid("changes", format!("a pool may have at most {MAX_PLANNED_CHANGES} pending changes in all: {planned} are pending")));
    }
    Ok(pending)
}

/// Store a checked batch, pending, with the departments it adds (`createdNodes`) listed.
pub(crate) async fn store_in(
    txn: &DatabaseTransaction,
    pool: &PoolId,
    id: String,
    at: DateTime<Utc>,
    changes: Vec<OrgChange>,
    created_by: &str,
    created_at: DateTime<Utc>,
) -> AppResult<scheduled_change::Model> {
    let created: Vec<Value> = changes
        .iter()
        .filter_map(|c| match c {
            OrgChange::AddNode { id, fields, .. } => Some(serde_json::json!({ "code": fields.get("code").cloned().unwrap_or(Value::Null), "id": id })),
            _ => None,
        })
        .collect();
    let row = scheduled_change::ActiveModel {
        id: Set(id),
        user_pool_id: Set(pool.as_str().to_string()),
        at: Set(at),
        status: Set(Status::Pending.as_str().into()),
        changes: Set(serde_json::to_value(&changes).map_err(AppError::internal)?),
        created_nodes: Set(Value::Array(created)),
        error: Set(None),
        created_by: Set(created_by.to_string()),
        created_at: Set(created_at),
        finished_at: Set(None),
    };
    Ok(row.insert(txn).await?)
}

/// The pending batches of `pool`, in the order they apply.
pub(crate) async fn pending(db: &impl ConnectionTrait, pool: &PoolId) -> AppResult<Vec<scheduled_change::Model>> {
    Ok(scheduled_change::Entity::find()
        .filter(scheduled_change::Column::UserPoolId.eq(pool.as_str()))
        .filter(scheduled_change::Column::Status.eq(Status::Pending.as_str()))
        .order_by_asc(scheduled_change::Column::At)
        .order_by_asc(scheduled_change::Column::CreatedAt)
        .all(db)
        .await?)
}

fn stored_changes(model: &scheduled_change::Model) -> AppResult<Vec<OrgChange>> {
    serde_json::from_value(model.changes.clone()).map_err(AppError::internal)
}

/// A pending batch the one being scheduled comes after no longer applies.
fn planned(e: AppError) -> AppError {
    AppError::invalid("at", format!("a pending batch due before this one no longer applies ({e}); cancel it or schedule after it"))
}

async fn find(db: &impl ConnectionTrait, pool: &PoolId, id: &str) -> AppResult<scheduled_change::Model> {
    scheduled_change::Entity::find_by_id(id.to_string())
        .filter(scheduled_change::Column::UserPoolId.eq(pool.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("scheduled changes", id))
}

/// Take batch `id` for this transaction if it is still pending: on PostgreSQL its row is locked,
/// and one another instance holds is skipped; SQLite has one writer.
async fn claim(txn: &DatabaseTransaction, id: &str) -> AppResult<bool> {
    let lock = if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!("SELECT COUNT(*) AS n FROM (SELECT id FROM scheduled_change WHERE id = $1 AND status = $2{lock}) claimed");
    Ok(sql::count(txn, &sql, vec![id.into(), Status::Pending.as_str().into()]).await? == 1)
}

/// Mark a pending batch applied or failed; whether it was pending.
async fn settle(db: &impl ConnectionTrait, id: &str, status: Status, error: Option<&str>) -> AppResult<bool> {
    let changed = sql::exec(
        db,
        "UPDATE scheduled_change SET status = $1, error = $2, finished_at = $3 WHERE id = $4 AND status = $5",
        vec![status.as_str().into(), error.map(String::from).into(), Utc::now().into(), id.into(), Status::Pending.as_str().into()],
    )
    .await?;
    Ok(changed == 1)
}

/// Apply `changes` in order with the domain's rules; the first that fails fails them all, named
/// by its position.
pub(crate) async fn apply_in(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, changes: &[OrgChange]) -> AppResult<()> {
    for (i, change) in changes.iter().enumerate() {
        apply_one(txn, outbox, pool, change).await.map_err(|e| match e {
            AppError::Internal(_) | AppError::Unavailable { .. } => e,
            e => AppError::invalid(format!("changes[{i}]"), format!("change {} ({}): {e}", i + 1, change.name())),
        })?;
    }
    Ok(())
}

async fn apply_one(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, change: &OrgChange) -> AppResult<()> {
    let fields = |map: &Map<String, Value>| DepartmentPatch::read(Names::Standard, |k| map.get(k));
    match change {
        OrgChange::AddNode { id, org_id, parent, fields: given } => {
            let parent = match parent {
                Some(name) => Some(resolve(txn, pool, name, Some(org_id)).await?.id),
                None => None,
            };
            let input = NodeInput { fields: fields(given)?, id: Some(id.clone()), ..Default::default() };
            org_tree::add_node_in(txn, outbox, pool, org_id, parent.as_deref(), input).await?;
        }
        OrgChange::UpdateNode { node, fields: given } => {
            let node = resolve(txn, pool, node, None).await?;
            org_tree::update_node_in(txn, outbox, pool, &node.id, NodePatch::from(fields(given)?)).await?;
        }
        OrgChange::MoveNode { node, parent } => {
            let node = resolve(txn, pool, node, None).await?;
            let parent = resolve(txn, pool, parent, Some(&node.org_id)).await?;
            org_tree::move_node_in(txn, outbox, pool, &node.org_id, &node.id, &parent.id).await?;
        }
        OrgChange::DeleteNode { node } => {
            let node = resolve(txn, pool, node, None).await?;
            org_tree::delete_node_in(txn, outbox, pool, &node.org_id, &node.id).await?;
        }
        OrgChange::MoveMembers { user_ids, source, target } => {
            let user_ids = batch_ids("userIds", user_ids)?;
            let (source, target) = (resolve(txn, pool, source, None).await?, resolve(txn, pool, target, None).await?);
            org_tree::move_members_in(txn, outbox, pool, &user_ids, &source.id, &target.id).await?;
        }
    }
    Ok(())
}

/// The department `name` names in `pool` (within `org` when given).
async fn resolve(txn: &DatabaseTransaction, pool: &PoolId, name: &NodeName, org: Option<&str>) -> AppResult<node::Model> {
    match name {
        NodeName::Id(id) => org_tree::find_node(txn, pool, id).await,
        NodeName::Code(code) => {
            let mut q = node::Entity::find().filter(node::Column::UserPoolId.eq(pool.as_str())).filter(node::Column::Code.eq(code.as_str()));
            if let Some(org) = org {
                q = q.filter(node::Column::OrgId.eq(org));
            }
            let mut found = q.limit(2).all(txn).await?;
            match found.len() {
                1 => Ok(found.remove(0)),
                0 => Err(AppError::not_found("node", code.as_str())),
                _ => Err(AppError::invalid("code", format!("code {code} names departments of several organizations: give the department's id"))),
            }
        }
    }
}
