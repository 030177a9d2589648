//! Writing a checked [`Plan`]: users, then nodes (parents first), then memberships, each in
//! transactions of at most `batch` rows (or all in one, [`CompanyService::import_at_once`]).
//! Ids, times and every field are the file's; with `new_ids` (files meant as templates) every
//! organization, department and user gets a new id. Every row is idempotent, so a run that was
//! interrupted (killed, Ctrl-C, `--limit`) is finished by running the same import again:
//! - a user exists when a user of the pool has its id, or any of its identifiers (username,
//!   email, phone, externalId);
//! - a node exists when the pool has a node of its id; with `new_ids`, an organization exists
//!   when a root of the pool has its root's code (or, without a code, the same name and no
//!   code), and a node when its org has a node of its code (or, without a code, its parent has a
//!   child of that name without a code);
//! - a membership exists when the user is a member of the node;
//! - event apps, event types, namespaces, resources, grants and webhooks: see their modules.
//!
//! Then the pool's event apps, event types, namespaces, resources, grants and webhooks, in that
//! order (a type needs its app, a resource its namespace, a webhook its custom event types).
//! Existing rows are skipped, never changed. Nodes and memberships go through the domain's
//! in-transaction halves (`create_org_with_root_in`, `add_node_in`, `update_node_in` for
//! leaders, `add_members_in`), so closure and counts stay right after every batch. The
//! events those record are dropped by the batched import (see docs/guides/import-export.md); the one-transaction
//! import publishes one `organization:imported` per organization it creates.

use std::collections::{HashMap, HashSet};

use entity::{membership, node, org, user};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect};

use super::{
    Company, CompanyService, event_types, permissions,
    plan::{Leader, MemberPlan, NodePlan, Plan, Refusal, UserPlan, identifiers},
    webhooks,
};
use crate::{
    domain::{
        PoolId,
        docs::{NodeDoc, OrgDoc},
        events::{DomainEvent, Outbox},
        scim,
        org_tree::{NodePatch, OrgInput, add_members_joined_in, add_node_in, create_org_with_root_in, find_node, find_org, update_node_in},
        validate,
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
    /// New ids for every organization, department and user instead of the file's.
    pub new_ids: bool,
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
    pub event_apps: usize,
    pub event_types: usize,
    pub namespaces: usize,
    pub resources: usize,
    pub grants: usize,
    pub webhooks: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.nodes + self.users + self.memberships + self.event_apps + self.event_types + self.namespaces + self.resources + self.grants
            + self.webhooks
    }
}

/// The signing secret generated for an imported webhook the file gave none: its receiver
/// verifies deliveries with it from now on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSecret {
    pub webhook_id: String,
    pub name: String,
    pub url: String,
    pub secret: String,
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub created: Counts,
    pub skipped: Counts,
    /// `--limit` stopped the run before the end: run it again to finish.
    pub stopped_early: bool,
    /// One per webhook created without the file's secret.
    pub new_secrets: Vec<NewSecret>,
}

/// What `--limit` leaves of a run.
struct Budget {
    left: usize,
}

impl Budget {
    /// How many of `len` rows to write; fewer when the limit is reached.
    fn take(&mut self, len: usize, summary: &mut Summary) -> usize {
        let n = len.min(self.left);
        self.left -= n;
        if n < len {
            summary.stopped_early = true;
        }
        n
    }
}

/// Most rows of one multi-row user insert (about 50 columns each: within SQLite's 32,766
/// parameters).
const USERS_PER_INSERT: usize = 300;

impl CompanyService {
    /// Check `company` for an import into `pool`: every row by the domain's rules and, unless
    /// `new_ids`, that each id the file keeps is a valid id and no other pool's; the pool's
    /// event types, permissions and webhooks also against what the pool has (conflicts and
    /// references, see their modules), so that none is refused halfway. All the refusals (at
    /// most `max_refusals`) when any row is bad.
    pub async fn plan(&self, pool: &PoolId, company: Company, max_refusals: usize, new_ids: bool) -> AppResult<Result<Plan, Vec<Refusal>>> {
        let plan = match Plan::new(pool, company, max_refusals) {
            Ok(plan) => plan,
            Err(refusals) => return Ok(Err(refusals)),
        };
        let db = self.writer.db();
        let mut refusals = if new_ids { Vec::new() } else { kept_ids_refused(db, pool, &plan, max_refusals).await? };
        refusals.extend(event_types::refused(db, pool, &plan.event_apps, &plan.event_types, new_ids).await?);
        refusals.extend(permissions::refused(db, pool, &plan, new_ids).await?);
        let file_types: HashSet<&str> = plan.event_types.iter().map(|t| t.def.event_type.as_str()).collect();
        refusals.extend(webhooks::refused(db, pool, &plan.webhooks, &file_types, new_ids).await?);
        refusals.truncate(max_refusals.max(1));
        Ok(if refusals.is_empty() { Ok(plan) } else { Err(refusals) })
    }

    /// Write `plan` into `pool` in transactions of `options.batch` rows.
    pub async fn import(&self, pool: &PoolId, plan: &Plan, options: ImportOptions, progress: &dyn Progress) -> AppResult<Summary> {
        let batch = options.batch.max(1);
        let new_ids = options.new_ids;
        let mut budget = Budget { left: options.limit.unwrap_or(usize::MAX) };
        let mut summary = Summary::default();

        let (mut user_stats, mut node_stats, mut member_stats) = (Upkeep::default(), Upkeep::default(), Upkeep::default());
        let mut user_ids: Vec<String> = Vec::with_capacity(plan.users.len());
        for chunk in plan.users.chunks(batch) {
            let chunk = &chunk[..budget.take(chunk.len(), &mut summary)];
            if chunk.is_empty() {
                return Ok(summary);
            }
            let done = self.writer.write_plain(async |txn| import_users(txn, pool, chunk, new_ids).await).await?;
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
            let chunk = &chunk[..budget.take(chunk.len(), &mut summary)];
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
                        let r = import_node(txn, &mut outbox, pool, plan_node, parent, &user_ids, new_ids).await;
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
            let chunk = &chunk[..budget.take(chunk.len(), &mut summary)];
            if chunk.is_empty() {
                return Ok(summary);
            }
            let rows = members(chunk, &node_ids, &user_ids);
            let created = self.writer.write_plain(async |txn| import_members(txn, pool, &rows).await).await?;
            summary.created.memberships += created;
            summary.skipped.memberships += chunk.len() - created;
            member_stats.after_batch(self.writer.db(), &["membership"], summary.created.memberships + summary.skipped.memberships).await?;
            progress.advance("memberships", chunk.len());
        }
        storage::analyze(self.writer.db(), &["users", "node", "node_closure", "membership"]).await?;

        // The pool's other state: few rows, each kind in batches like the rest (events dropped).
        let node_ids: Vec<String> = node_ids.into_iter().map(|(id, _)| id).collect();
        for phase in Phase::ALL {
            let len = phase.rows(plan);
            let mut start = 0;
            while start < len {
                let end = start + budget.take((len - start).min(batch), &mut summary);
                if end == start {
                    return Ok(summary);
                }
                let done = self
                    .writer
                    .write_plain(async |txn| {
                        let mut dropped = Outbox::new(pool);
                        let range = start..end;
                        Ok(match phase {
                            Phase::EventApps => plain(event_types::write_apps(txn, pool, &plan.event_apps[range], new_ids).await?),
                            Phase::EventTypes => plain(event_types::write_types(txn, pool, &plan.event_types[range], new_ids).await?),
                            Phase::Namespaces => plain(permissions::write_namespaces(txn, &mut dropped, pool, &plan.namespaces[range]).await?),
                            Phase::Resources => plain(permissions::write_resources(txn, &mut dropped, pool, &plan.resources[range], new_ids).await?),
                            Phase::Grants => plain(permissions::write_grants(txn, &mut dropped, pool, &plan.grants[range], &user_ids, &node_ids, new_ids).await?),
                            Phase::Webhooks => webhooks::write(txn, pool, &plan.webhooks[range], new_ids).await?,
                        })
                    })
                    .await?;
                for (created, secret) in done {
                    *phase.count(if created { &mut summary.created } else { &mut summary.skipped }) += 1;
                    summary.new_secrets.extend(secret);
                }
                progress.advance(phase.name(), end - start);
                start = end;
            }
        }
        Ok(summary)
    }

    /// Write `plan` (ids kept) into `pool` in one transaction: all of it or, on any error,
    /// nothing. Publishes `organization:imported` (with `source`) for each organization it
    /// creates, and answers them with their roots.
    pub async fn import_at_once(&self, pool: &PoolId, plan: &Plan, source: &'static str) -> AppResult<Vec<(org::Model, node::Model)>> {
        self.writer
            .write(pool, async |txn, outbox| {
                let users: Vec<String> = import_users(txn, pool, &plan.users, false).await?.into_iter().map(|(id, _)| id).collect();
                // The changes' own events are not published: the import is one event.
                let mut inner = Outbox::new(pool);
                let mut node_ids: Vec<(String, String)> = Vec::with_capacity(plan.nodes.len());
                let mut roots: Vec<(String, usize)> = Vec::new();
                let mut root_of: Vec<usize> = Vec::with_capacity(plan.nodes.len());
                for (i, n) in plan.nodes.iter().enumerate() {
                    let parent = n.parent.map(|p| node_ids[p].clone());
                    let (ids, created) = import_node(txn, &mut inner, pool, n, parent, &users, false).await.map_err(|e| at_row(&n.at, e))?;
                    let root = n.parent.map_or(i, |p| root_of[p]);
                    root_of.push(root);
                    if created && n.parent.is_none() {
                        roots.push((ids.1.clone(), i));
                    }
                    node_ids.push(ids);
                }
                import_members(txn, pool, &members(&plan.memberships, &node_ids, &users)).await?;
                let node_keys: Vec<String> = node_ids.iter().map(|(id, _)| id.clone()).collect();
                event_types::write_apps(txn, pool, &plan.event_apps, false).await?;
                event_types::write_types(txn, pool, &plan.event_types, false).await?;
                permissions::write_namespaces(txn, &mut inner, pool, &plan.namespaces).await?;
                permissions::write_resources(txn, &mut inner, pool, &plan.resources, false).await?;
                permissions::write_grants(txn, &mut inner, pool, &plan.grants, &users, &node_keys, false).await?;
                webhooks::write(txn, pool, &plan.webhooks, false).await?;
                let mut created = Vec::with_capacity(roots.len());
                for (org_id, root) in roots {
                    let org = find_org(txn, pool, &org_id).await?;
                    let root_node = find_node(txn, pool, &org.root_node_id).await?;
                    let nodes_count = root_of.iter().filter(|&&r| r == root).count();
                    outbox.record(DomainEvent::OrganizationImported {
                        organization: OrgDoc::from(&org), root_node: NodeDoc::from(&root_node), nodes_count, source,
                    });
                    created.push((org, root_node));
                }
                Ok(created)
            })
            .await
    }
}

/// The kinds of rows written after the memberships, in order.
#[derive(Debug, Clone, Copy)]
enum Phase {
    EventApps,
    EventTypes,
    Namespaces,
    Resources,
    Grants,
    Webhooks,
}

impl Phase {
    const ALL: [Phase; 6] = [Phase::EventApps, Phase::EventTypes, Phase::Namespaces, Phase::Resources, Phase::Grants, Phase::Webhooks];

    fn name(self) -> &'static str {
        match self {
            Phase::EventApps => "event apps",
            Phase::EventTypes => "event types",
            Phase::Namespaces => "namespaces",
            Phase::Resources => "resources",
            Phase::Grants => "grants",
            Phase::Webhooks => "webhooks",
        }
    }

    fn rows(self, plan: &Plan) -> usize {
        match self {
            Phase::EventApps => plan.event_apps.len(),
            Phase::EventTypes => plan.event_types.len(),
            Phase::Namespaces => plan.namespaces.len(),
            Phase::Resources => plan.resources.len(),
            Phase::Grants => plan.grants.len(),
            Phase::Webhooks => plan.webhooks.len(),
        }
    }

    fn count(self, c: &mut Counts) -> &mut usize {
        match self {
            Phase::EventApps => &mut c.event_apps,
            Phase::EventTypes => &mut c.event_types,
            Phase::Namespaces => &mut c.namespaces,
            Phase::Resources => &mut c.resources,
            Phase::Grants => &mut c.grants,
            Phase::Webhooks => &mut c.webhooks,
        }
    }
}

/// Outcomes of rows that carry no secret.
fn plain(created: Vec<bool>) -> Vec<(bool, Option<NewSecret>)> {
    created.into_iter().map(|c| (c, None)).collect()
}

/// The memberships of `plan` with the ids the import gave their nodes and users.
fn members(plan: &[MemberPlan], node_ids: &[(String, String)], user_ids: &[String]) -> Vec<Member> {
    plan.iter()
        .map(|m| Member { node: node_ids[m.node].0.clone(), user: user_ids[m.user].clone(), leader: m.leader, main: m.main, joined_at: m.joined_at })
        .collect()
}

/// The rows of `plan` whose kept id is not an id, or is the id of another pool's user,
/// department or organization.
async fn kept_ids_refused(db: &sea_orm::DatabaseConnection, pool: &PoolId, plan: &Plan, max: usize) -> AppResult<Vec<Refusal>> {
    let mut refused = Vec::new();
    let mut wanted: Vec<(&'static str, &str, &str)> = Vec::new(); // (table, id, at)
    for u in &plan.users {
        wanted.push(("users", &u.key, &u.at));
    }
    for n in &plan.nodes {
        wanted.push(("node", &n.key, &n.at));
        if let Some(key) = n.org.as_ref().and_then(|o| o.key.as_deref()) {
            wanted.push(("org", key, &n.at));
        }
    }
    let mut checked: Vec<(&'static str, &str, &str)> = Vec::with_capacity(wanted.len());
    for (table, id, at) in wanted {
        match validate::identifier("id", id) {
            Ok(()) => checked.push((table, id, at)),
            Err(_) => refused.push(Refusal {
                at: at.to_string(),
                message: format!("id {id:?} cannot be kept: an id is 1 to 64 letters, digits, '-' or '_'"),
            }),
        }
    }
    for table in ["users", "node", "org"] {
        let ids: Vec<(&str, &str)> = checked.iter().filter(|(t, ..)| *t == table).map(|(_, id, at)| (*id, *at)).collect();
        for chunk in ids.chunks(500) {
            let mut values = vec![pool.as_str().into()];
            values.extend(sql::strings(&chunk.iter().map(|(id, _)| *id).collect::<Vec<_>>()));
            let taken: HashSet<String> = sql::all::<IdRow>(db, &format!(
                "SELECT id FROM {table} WHERE user_pool_id <> $1 AND id IN ({})", sql::placeholders(2, chunk.len())), values)
                .await?
                .into_iter()
                .map(|r| r.id)
                .collect();
            let what = match table { "users" => "user", "node" => "department", _ => "organization" };
            for (id, at) in chunk.iter().filter(|(id, _)| taken.contains(*id)) {
                refused.push(Refusal { at: at.to_string(), message: format!("id {id:?} is already the id of another pool's {what}") });
            }
        }
    }
    refused.truncate(max.max(1));
    Ok(refused)
}

#[derive(sea_orm::FromQueryResult)]
struct IdRow {
    id: String,
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
pub(super) fn at_row(at: &str, e: AppError) -> AppError {
    match e {
        AppError::InvalidInput { field, message } => AppError::InvalidInput { field, message: format!("{at}: {message}") },
        AppError::Conflict { field, message } => AppError::Conflict { field, message: format!("{at}: {message}") },
        AppError::NotFound { entity, id } => AppError::InvalidInput { field: None, message: format!("{at}: {entity} not found: {id}") },
        other => other,
    }
}

/// Create the users of `chunk` that do not exist yet; each one's id and whether it was created.
/// A new user keeps the file's id unless `new_ids`.
async fn import_users(txn: &DatabaseTransaction, pool: &PoolId, chunk: &[UserPlan], new_ids: bool) -> AppResult<Vec<(String, bool)>> {
    let keys: Vec<String> = chunk.iter().map(|u| u.key.clone()).collect();
    let in_pool: HashSet<String> = if new_ids {
        HashSet::new()
    } else {
        let mut found = HashSet::new();
        for keys in keys.chunks(1_000) {
            let ids: Vec<String> = user::Entity::find()
                .select_only()
                .column(user::Column::Id)
                .filter(user::Column::UserPoolId.eq(pool.as_str()))
                .filter(user::Column::Id.is_in(keys.to_vec()))
                .into_tuple()
                .all(txn)
                .await?;
            found.extend(ids);
        }
        found
    };
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
        for values in values.chunks(1_000) {
            found.extend(user::Entity::find().filter(user::Column::UserPoolId.eq(pool.as_str())).filter(column.is_in(values.to_vec())).all(txn).await?);
        }
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
        if in_pool.contains(&u.key) {
            out.push((u.key.clone(), false));
            continue;
        }
        if let Some(id) = identifiers(&u.row).into_iter().find_map(|k| owner.get(&k).cloned()) {
            out.push((id, false));
            continue;
        }
        let id = if new_ids { ids::new_id() } else { u.key.clone() };
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

/// Find or create one node; `parent` is its parent's (node id, org id). Its (node id, org id),
/// and whether it was created.
async fn import_node(
    txn: &DatabaseTransaction,
    outbox: &mut Outbox,
    pool: &PoolId,
    plan: &NodePlan,
    parent: Option<(String, String)>,
    user_ids: &[String],
    new_ids: bool,
) -> AppResult<((String, String), bool)> {
    let mut input = plan.input.clone();
    let existing = if new_ids {
        let name = input.fields.name.clone().unwrap_or_default();
        let mut q = node::Entity::find().filter(node::Column::UserPoolId.eq(pool.as_str()));
        q = match (&parent, input.fields.code.clone().flatten()) {
            (None, Some(code)) => q.filter(node::Column::ParentId.is_null()).filter(node::Column::Code.eq(code)),
            (None, None) => q.filter(node::Column::ParentId.is_null()).filter(node::Column::Code.is_null()).filter(node::Column::Name.eq(name)),
            (Some((_, org)), Some(code)) => q.filter(node::Column::OrgId.eq(org.as_str())).filter(node::Column::Code.eq(code)),
            (Some((p, _)), None) => q.filter(node::Column::ParentId.eq(p.as_str())).filter(node::Column::Code.is_null()).filter(node::Column::Name.eq(name)),
        };
        q.one(txn).await?
    } else {
        node::Entity::find_by_id(plan.key.clone()).filter(node::Column::UserPoolId.eq(pool.as_str())).one(txn).await?
    };
    if let Some(existing) = existing {
        if let Some((_, org)) = &parent
            && &existing.org_id != org
        {
            return Err(AppError::Conflict {
                field: Some("id"),
                message: format!("department {} already exists in another organization of the pool", existing.id),
            });
        }
        return Ok(((existing.id, existing.org_id), false));
    }
    if !new_ids {
        input.id = Some(plan.key.clone());
    }
    let node = match &parent {
        None => {
            let org = plan.org.clone().unwrap_or_default();
            let org = OrgInput { id: org.key.filter(|_| !new_ids), tenant_id: org.tenant_id };
            // Another pool's ids were refused when planned; one of this pool's is a conflict
            // (a new root cannot join an organization that has one).
            if let Some(id) = &org.id
                && find_org(txn, pool, id).await.is_ok()
            {
                return Err(AppError::Conflict { field: Some("orgId"), message: format!("organization {id} already exists in this pool") });
            }
            let (org, root) = create_org_with_root_in(txn, outbox, pool, org, input).await?;
            (root.id, org.id)
        }
        Some((parent_id, org_id)) => {
            let n = add_node_in(txn, outbox, pool, org_id, Some(parent_id), input).await?;
            (n.id, n.org_id)
        }
    };
    if let Some(ext) = &plan.scim_external_id {
        scim::set_external_id(txn, pool, &node.0, Some(ext)).await?;
    }
    if !plan.leaders.is_empty() {
        let leaders = plan
            .leaders
            .iter()
            .map(|l| match l {
                Leader::File(u) => user_ids[*u].clone(),
                Leader::Pool(id) => id.clone(),
            })
            .collect();
        let patch = NodePatch { leader_user_ids: Some(leaders), updated_at: plan.input.updated_at, ..Default::default() };
        update_node_in(txn, outbox, pool, &node.0, patch).await?;
    }
    Ok((node, true))
}

struct Member {
    node: String,
    user: String,
    leader: bool,
    main: bool,
    joined_at: Option<chrono::DateTime<chrono::Utc>>,
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
                let joined: HashMap<String, chrono::DateTime<chrono::Utc>> =
                    new.iter().filter(|m| m.leader == leader).filter_map(|m| Some((m.user.clone(), m.joined_at?))).collect();
                add_members_joined_in(txn, &mut outbox, pool, node, &ids, leader.then_some(true), &joined).await?;
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
