//! Writing a checked [`Plan`]: users, then nodes (parents first), then memberships, each in
//! transactions of at most `batch` rows (or all in one, [`CompanyService::import_at_once`]).
//! The users and memberships are read again from the [`Source`] as they are written, so a run
//! holds a batch of them at a time. Ids, times and every field are the file's; with `new_ids`
//! (files meant as templates) every organization, department and user gets a new id. Every row
//! is idempotent, so a run that was interrupted (killed, Ctrl-C, `--limit`) is finished by
//! running the same import again:
//! - a user exists when a user of the pool has its id, or any of its identifiers (username,
//!   email, phone, externalId);
//! - a node exists when the pool has a node of its id; with `new_ids`, an organization exists
//!   when a root of the pool has its root's code (or, without a code, the same name and no
//!   code), and a node when its org has a node of its code (or, without a code, its parent has a
//!   child of that name without a code);
//! - a membership exists when the user is a member of the node;
//! - event apps, event types, namespaces, resources, grants and webhooks: see their modules.
//!
//! Then the pool's event apps, event types, namespaces, resources, grants, webhooks and pending
//! scheduled batches, in that
//! order (a type needs its app, a resource its namespace, a webhook its custom event types).
//! Existing rows are skipped, never changed. The writes are set-based: users and memberships
//! in multi-row inserts, the new nodes of a batch in one (roots, with their organizations,
//! through `create_org_with_root_in`) and their closure rows a level at a time; the member
//! counts of the file's organizations are recounted once, after the memberships
//! (`counts::rebuild`), rather than kept row by row. No event is published for the rows of the
//! batched import (see docs/guides/import-export.md); the one-transaction import publishes one
//! `organization:imported` per organization it creates.

use std::collections::{HashMap, HashSet};

use entity::{membership, node, node_leader, org, user};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, sea_query::OnConflict};

use super::{
    CompanyService, Rows, Source, TABLES, event_types, permissions,
    plan::{self, Leader, NodePlan, Plan, Refusal, Refused, UserPlan, identifiers},
    scheduled, user_columns, webhooks,
};
use crate::{
    domain::{
        PoolId,
        docs::{NodeDoc, OrgDoc},
        events::{DomainEvent, Outbox},
        org_tree::{DepartmentPatch, NodePatch, OrgInput, create_org_with_root_in, find_node, find_org, first_taken_in_org, new_node_row, update_node_in},
        scim, users, validate,
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
    pub scheduled_changes: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.nodes + self.users + self.memberships + self.event_apps + self.event_types + self.namespaces + self.resources + self.grants
            + self.webhooks + self.scheduled_changes
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
/// Most rows of one multi-row node insert (about 20 columns each).
const NODES_PER_INSERT: usize = 500;
/// Most rows of one multi-row membership insert (7 columns each).
const MEMBERS_PER_INSERT: usize = 1_000;

impl CompanyService {
    /// Check `source` for an import into `pool`: every row by the domain's rules and, unless
    /// `new_ids`, that each id the file keeps is a valid id and no other pool's; the pool's
    /// event types, permissions and webhooks also against what the pool has (conflicts and
    /// references, see their modules), so that none is refused halfway. All the refusals (at
    /// most `max_refusals`) when any row is bad.
    pub async fn plan(&self, pool: &PoolId, source: &dyn Source, max_refusals: usize, new_ids: bool) -> AppResult<Result<Plan, Refused>> {
        let plan = match Plan::new(pool, source, max_refusals)? {
            Ok(plan) => plan,
            Err(refused) => return Ok(Err(refused)),
        };
        let db = self.writer.db();
        let mut refusals = if new_ids { Vec::new() } else { kept_ids_refused(db, pool, &plan, source, max_refusals).await? };
        refusals.extend(event_types::refused(db, pool, &plan.event_apps, &plan.event_types, new_ids).await?);
        refusals.extend(permissions::refused(db, pool, &plan, new_ids).await?);
        let file_types: HashSet<&str> = plan.event_types.iter().map(|t| t.def.event_type.as_str()).collect();
        let file_nodes: HashSet<&str> = plan.nodes.iter().map(|n| n.key.as_str()).collect();
        refusals.extend(webhooks::refused(db, pool, &plan.webhooks, &file_types, &file_nodes, new_ids).await?);
        refusals.extend(scheduled::refused(db, pool, &plan.scheduled, new_ids).await?);
        refusals.truncate(max_refusals.max(1));
        Ok(if refusals.is_empty() { Ok(plan) } else { Err(Refused { refusals, rows: plan.rows() }) })
    }

    /// Write `plan` (its users and memberships read again from `source`) into `pool` in
    /// transactions of `options.batch` rows, each set-based: users and memberships in
    /// multi-row inserts, nodes a level at a time with their closure rows. The member counts of
    /// the file's organizations are recounted once, after the memberships (also when `--limit`
    /// stops the run among them; a run killed before that leaves them to the next run).
    pub async fn import(&self, pool: &PoolId, plan: &Plan, source: &dyn Source, options: ImportOptions, progress: &dyn Progress) -> AppResult<Summary> {
        let batch = options.batch.max(1);
        let new_ids = options.new_ids;
        let mut budget = Budget { left: options.limit.unwrap_or(usize::MAX) };
        let mut summary = Summary::default();

        let (mut user_stats, mut node_stats, mut member_stats) = (Upkeep::default(), Upkeep::default(), Upkeep::default());
        let mut user_ids: Vec<String> = Vec::with_capacity(plan.users.len());
        let mut users = UserRows::new(pool, source)?;
        loop {
            let mut chunk = users.next(batch)?;
            if chunk.is_empty() {
                break;
            }
            chunk.truncate(budget.take(chunk.len(), &mut summary));
            if chunk.is_empty() {
                return Ok(summary);
            }
            let done = self.writer.write_plain(crate::domain::Actor::IMPORT, async |txn| import_users(txn, pool, &chunk, new_ids).await).await?;
            for (id, created) in done {
                if created { summary.created.users += 1 } else { summary.skipped.users += 1 }
                user_ids.push(id);
            }
            user_stats.after_batch(self.writer.db(), &["users"], user_ids.len()).await?;
            progress.advance("users", chunk.len());
        }

        let mut node_ids: Vec<Placed> = Vec::with_capacity(plan.nodes.len());
        for (n, chunk) in plan.nodes.chunks(batch).enumerate() {
            let chunk = &chunk[..budget.take(chunk.len(), &mut summary)];
            if chunk.is_empty() {
                return Ok(summary);
            }
            let first = n * batch;
            let done = self.writer.write_plain(crate::domain::Actor::IMPORT, async |txn| import_nodes(txn, pool, chunk, first, &node_ids, &user_ids, new_ids).await).await?;
            for (placed, created) in done {
                if created { summary.created.nodes += 1 } else { summary.skipped.nodes += 1 }
                node_ids.push(placed);
            }
            node_stats.after_batch(self.writer.db(), &["node", "node_closure"], node_ids.len()).await?;
            progress.advance("departments", chunk.len());
        }

        let mut members = MemberRows::new(plan, source)?;
        let mut stopped = false;
        loop {
            let chunk = members.next(batch, &node_ids, &user_ids)?;
            if chunk.is_empty() {
                break;
            }
            let chunk = &chunk[..budget.take(chunk.len(), &mut summary)];
            if chunk.is_empty() {
                stopped = true;
                break;
            }
            let created = self.writer.write_plain(crate::domain::Actor::IMPORT, async |txn| import_members(txn, pool, chunk).await).await?;
            summary.created.memberships += created;
            summary.skipped.memberships += chunk.len() - created;
            member_stats.after_batch(self.writer.db(), &["membership"], summary.created.memberships + summary.skipped.memberships).await?;
            progress.advance("memberships", chunk.len());
        }
        for org in orgs_of(&node_ids) {
            self.writer.write_plain(crate::domain::Actor::IMPORT, async |txn| storage::tree::counts::rebuild(txn, org).await).await?;
        }
        storage::analyze(self.writer.db(), &["users", "node", "node_closure", "membership"]).await?;
        if stopped {
            return Ok(summary);
        }

        // The pool's other state: few rows, each kind in batches like the rest (events dropped).
        let placed: Vec<(&str, &str)> = node_ids.iter().map(|p| (p.id.as_str(), p.org.as_str())).collect();
        let batch_ids = new_ids.then(|| scheduled::NewIds::new(&plan.nodes, &placed, &plan.users, &user_ids, &plan.scheduled));
        let node_ids: Vec<String> = node_ids.iter().map(|p| p.id.clone()).collect();
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
                    .write_plain(crate::domain::Actor::IMPORT, async |txn| {
                        let mut dropped = Outbox::new(pool);
                        let range = start..end;
                        Ok(match phase {
                            Phase::EventApps => plain(event_types::write_apps(txn, pool, &plan.event_apps[range], new_ids).await?),
                            Phase::EventTypes => plain(event_types::write_types(txn, pool, &plan.event_types[range], new_ids).await?),
                            Phase::Namespaces => plain(permissions::write_namespaces(txn, &mut dropped, pool, &plan.namespaces[range]).await?),
                            Phase::Resources => plain(permissions::write_resources(txn, &mut dropped, pool, &plan.resources[range], new_ids).await?),
                            Phase::Grants => plain(permissions::write_grants(txn, &mut dropped, pool, &plan.grants[range], &user_ids, &node_ids, new_ids).await?),
                            Phase::Webhooks => webhooks::write(txn, pool, &plan.webhooks[range], new_ids, batch_ids.as_ref()).await?,
                            Phase::ScheduledChanges => plain(scheduled::write(txn, pool, &plan.scheduled[range], batch_ids.as_ref()).await?),
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

    /// Write `plan` (ids kept; its users and memberships read again from `source`) into `pool`
    /// in one transaction: all of it or, on any error, nothing. Publishes
    /// `organization:imported` (with `source`) for each organization it creates, and answers
    /// them with their roots.
    pub async fn import_at_once(&self, pool: &PoolId, plan: &Plan, rows: &dyn Source, source: &'static str) -> AppResult<Vec<(org::Model, node::Model)>> {
        self.writer
            .write(&pool.clone().acting_as(crate::domain::Actor::IMPORT), async |txn, outbox| {
                let chunk = UserRows::new(pool, rows)?.next(usize::MAX)?;
                let users: Vec<String> = import_users(txn, pool, &chunk, false).await?.into_iter().map(|(id, _)| id).collect();
                let node_ids = import_nodes(txn, pool, &plan.nodes, 0, &[], &users, false).await?;
                let mut root_of: Vec<usize> = Vec::with_capacity(plan.nodes.len());
                let mut roots: Vec<(String, usize)> = Vec::new();
                for (i, (n, (placed, created))) in plan.nodes.iter().zip(&node_ids).enumerate() {
                    root_of.push(n.parent.map_or(i, |p| root_of[p]));
                    if *created && n.parent.is_none() {
                        roots.push((placed.org.clone(), i));
                    }
                }
                let node_ids: Vec<Placed> = node_ids.into_iter().map(|(p, _)| p).collect();
                let members = MemberRows::new(plan, rows)?.next(usize::MAX, &node_ids, &users)?;
                import_members(txn, pool, &members).await?;
                for org in orgs_of(&node_ids) {
                    storage::tree::counts::rebuild(txn, org).await?;
                }
                // The changes' own events are not published: the import is one event.
                let mut inner = Outbox::new(pool);
                let node_keys: Vec<String> = node_ids.iter().map(|p| p.id.clone()).collect();
                event_types::write_apps(txn, pool, &plan.event_apps, false).await?;
                event_types::write_types(txn, pool, &plan.event_types, false).await?;
                permissions::write_namespaces(txn, &mut inner, pool, &plan.namespaces).await?;
                permissions::write_resources(txn, &mut inner, pool, &plan.resources, false).await?;
                permissions::write_grants(txn, &mut inner, pool, &plan.grants, &users, &node_keys, false).await?;
                webhooks::write(txn, pool, &plan.webhooks, false, None).await?;
                scheduled::write(txn, pool, &plan.scheduled, None).await?;
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

/// Where a node of the plan is in the pool.
#[derive(Debug, Clone)]
struct Placed {
    id: String,
    org: String,
    depth: i32,
}

/// The organizations of `nodes`, each once.
fn orgs_of(nodes: &[Placed]) -> Vec<&str> {
    let mut seen = HashSet::new();
    nodes.iter().map(|p| p.org.as_str()).filter(|o| seen.insert(*o)).collect()
}

/// The users of a source, read again to be written (checked when planned: a row that no
/// longer passes means the file changed in between).
struct UserRows<'a> {
    pool: &'a PoolId,
    rows: Rows<'a>,
    columns: Vec<&'static str>,
    now: chrono::DateTime<chrono::Utc>,
}

impl<'a> UserRows<'a> {
    fn new(pool: &'a PoolId, source: &'a dyn Source) -> AppResult<Self> {
        Ok(UserRows { pool, rows: source.rows(&TABLES[1])?, columns: user_columns(), now: chrono::Utc::now() })
    }

    /// The next `n` users (fewer at the end).
    fn next(&mut self, n: usize) -> AppResult<Vec<UserPlan>> {
        let mut out = Vec::new();
        for row in self.rows.by_ref().take(n) {
            let row = row?;
            out.push(plan::user(self.pool, &row, &self.columns, self.now).map_err(|why| changed(&row.at, &why))?);
        }
        Ok(out)
    }
}

/// The memberships of a source, read again to be written, with the ids the import gave their
/// nodes and users.
struct MemberRows<'a> {
    plan: &'a Plan,
    rows: Rows<'a>,
    nodes: HashMap<&'a str, usize>,
}

impl<'a> MemberRows<'a> {
    fn new(plan: &'a Plan, source: &'a dyn Source) -> AppResult<Self> {
        let nodes = plan.nodes.iter().enumerate().map(|(i, n)| (n.key.as_str(), i)).collect();
        Ok(MemberRows { plan, rows: source.rows(&TABLES[2])?, nodes })
    }

    /// The next `n` memberships (fewer at the end).
    fn next(&mut self, n: usize, node_ids: &[Placed], user_ids: &[String]) -> AppResult<Vec<Member>> {
        let mut out = Vec::new();
        for row in self.rows.by_ref().take(n) {
            let row = row?;
            let m = plan::member(&row, &self.nodes, &self.plan.users).map_err(|why| changed(&row.at, &why))?;
            let (Some(node), Some(user)) = (node_ids.get(m.node), user_ids.get(m.user)) else {
                return Err(changed(&row.at, "its node or user was not written"));
            };
            out.push(Member { node: node.id.clone(), org: node.org.clone(), user: user.clone(), leader: m.leader, main: m.main, joined_at: m.joined_at });
        }
        Ok(out)
    }
}

/// A row that passed the checks and no longer does.
fn changed(at: &str, why: &str) -> AppError {
    AppError::InvalidInput { field: None, message: format!("{at}: {why} (the file changed after it was checked; run the import again)") }
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
    ScheduledChanges,
}

impl Phase {
    const ALL: [Phase; 7] =
        [Phase::EventApps, Phase::EventTypes, Phase::Namespaces, Phase::Resources, Phase::Grants, Phase::Webhooks, Phase::ScheduledChanges];

    fn name(self) -> &'static str {
        match self {
            Phase::EventApps => "event apps",
            Phase::EventTypes => "event types",
            Phase::Namespaces => "namespaces",
            Phase::Resources => "resources",
            Phase::Grants => "grants",
            Phase::Webhooks => "webhooks",
            Phase::ScheduledChanges => "scheduled changes",
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
            Phase::ScheduledChanges => plan.scheduled.len(),
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
            Phase::ScheduledChanges => &mut c.scheduled_changes,
        }
    }
}

/// Outcomes of rows that carry no secret.
fn plain(created: Vec<bool>) -> Vec<(bool, Option<NewSecret>)> {
    created.into_iter().map(|c| (c, None)).collect()
}

/// The rows of `plan` whose kept id is not an id, or is the id of another pool's user,
/// department or organization.
async fn kept_ids_refused(db: &sea_orm::DatabaseConnection, pool: &PoolId, plan: &Plan, source: &dyn Source, max: usize) -> AppResult<Vec<Refusal>> {
    // Where a row is: a node's is kept, a user's is read again when one is refused.
    #[derive(Clone, Copy)]
    enum Place<'a> {
        At(&'a str),
        User(usize),
    }
    let mut refused: Vec<(Place, String)> = Vec::new();
    let mut wanted: Vec<(&'static str, &str, Place)> = Vec::new(); // (table, id, where)
    for (i, key) in plan.users.iter().enumerate() {
        wanted.push(("users", key, Place::User(i)));
    }
    for n in &plan.nodes {
        wanted.push(("node", &n.key, Place::At(&n.at)));
        if let Some(key) = n.org.as_ref().and_then(|o| o.key.as_deref()) {
            wanted.push(("org", key, Place::At(&n.at)));
        }
    }
    let mut checked: Vec<(&'static str, &str, Place)> = Vec::with_capacity(wanted.len());
    for (table, id, at) in wanted {
        match validate::identifier("id", id) {
            Ok(()) => checked.push((table, id, at)),
            Err(_) => refused.push((at, format!("id {id:?} cannot be kept: an id is 1 to 64 letters, digits, '-' or '_'"))),
        }
    }
    for table in ["users", "node", "org"] {
        let ids: Vec<(&str, Place)> = checked.iter().filter(|(t, ..)| *t == table).map(|(_, id, at)| (*id, *at)).collect();
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
                refused.push((*at, format!("id {id:?} is already the id of another pool's {what}")));
            }
        }
    }
    refused.truncate(max.max(1));
    let users: HashSet<usize> = refused.iter().filter_map(|(at, _)| if let Place::User(i) = at { Some(*i) } else { None }).collect();
    let rows = plan::places(source, &TABLES[1], &users)?;
    Ok(refused
        .into_iter()
        .map(|(at, message)| {
            let at = match at {
                Place::At(at) => at.to_string(),
                Place::User(i) => rows.get(&i).map_or_else(|| format!("/users/{i}"), |r| r.at.clone()),
            };
            Refusal { at, message }
        })
        .collect())
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

/// Find or create the nodes of `chunk` (the plan's nodes from position `first`, parents
/// first); `before` places the plan's earlier nodes. Roots (few) are made one at a time with
/// their organizations; the other new nodes are inserted together, then linked a level at a
/// time (`tree::link_imported`), by the domain's rules for a new node (`new_node_row`, codes
/// unique in the org, leaders users of the pool). Each node's place, and whether it was created.
async fn import_nodes(
    txn: &DatabaseTransaction,
    pool: &PoolId,
    chunk: &[NodePlan],
    first: usize,
    before: &[Placed],
    user_ids: &[String],
    new_ids: bool,
) -> AppResult<Vec<(Placed, bool)>> {
    let mut existing: HashMap<String, Placed> = HashMap::new();
    if !new_ids {
        for keys in chunk.chunks(1_000) {
            let found: Vec<(String, String, i32)> = node::Entity::find()
                .select_only()
                .columns([node::Column::Id, node::Column::OrgId, node::Column::Depth])
                .filter(node::Column::UserPoolId.eq(pool.as_str()))
                .filter(node::Column::Id.is_in(keys.iter().map(|n| n.key.clone())))
                .into_tuple()
                .all(txn)
                .await?;
            existing.extend(found.into_iter().map(|(id, org, depth)| (id.clone(), Placed { id, org, depth })));
        }
    }
    let mut outbox = Outbox::new(pool);
    let now = chrono::Utc::now();
    let mut done: Vec<(Placed, bool)> = Vec::with_capacity(chunk.len());
    // (position in chunk, row) of the new nodes that are not roots.
    let mut new_rows: Vec<(usize, node::ActiveModel)> = Vec::new();
    for (i, n) in chunk.iter().enumerate() {
        let parent = n.parent.map(|p| if p < first { before[p].clone() } else { done[p - first].0.clone() });
        let found = if new_ids { find_template_node(txn, pool, n, parent.as_ref()).await? } else { existing.remove(&n.key) };
        if let Some(found) = found {
            if let Some(p) = &parent
                && p.org != found.org
            {
                return Err(at_row(&n.at, AppError::Conflict {
                    field: Some("id"),
                    message: format!("department {} already exists in another organization of the pool", found.id),
                }));
            }
            done.push((found, false));
            continue;
        }
        let Some(parent) = parent else {
            let placed = import_root(txn, &mut outbox, pool, n, user_ids, new_ids).await.map_err(|e| at_row(&n.at, e))?;
            done.push((placed, true));
            continue;
        };
        let id = if new_ids { ids::new_id() } else { n.key.clone() };
        let row = new_node_row(pool, &parent.org, Some((&parent.id, parent.depth)), &id, n.input.clone(), now).map_err(|e| at_row(&n.at, e))?;
        new_rows.push((i, row));
        done.push((Placed { id, org: parent.org, depth: parent.depth + 1 }, true));
    }
    if new_rows.is_empty() {
        return Ok(done);
    }

    // Codes and open ids unique in each org (the file's own were checked when planned).
    let mut by_org: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, _) in &new_rows {
        by_org.entry(done[*i].0.org.as_str()).or_default().push(*i);
    }
    for (org, positions) in &by_org {
        let fields: Vec<&DepartmentPatch> = positions.iter().map(|i| &chunk[*i].input.fields).collect();
        if let Some((k, e)) = first_taken_in_org(txn, org, &fields).await? {
            return Err(at_row(&chunk[positions[k]].at, e));
        }
    }
    // Leaders: the file's users, or the pool's (each checked).
    let leaders_of = |n: &NodePlan| -> Vec<String> {
        n.leaders.iter().map(|l| match l { Leader::File(u) => user_ids[*u].clone(), Leader::Pool(id) => id.clone() }).collect()
    };
    let pool_leaders: Vec<String> = new_rows.iter().flat_map(|(i, _)| &chunk[*i].leaders).filter_map(|l| match l { Leader::Pool(id) => Some(id.clone()), Leader::File(_) => None }).collect::<HashSet<_>>().into_iter().collect();
    let known: HashSet<String> = users::existing(txn, pool, &pool_leaders).await?.into_iter().map(|u| u.id).collect();
    let mut leader_rows = Vec::new();
    for (i, row) in &mut new_rows {
        let unknown = chunk[*i].leaders.iter().find_map(|l| match l { Leader::Pool(id) if !known.contains(id) => Some(id), _ => None });
        if let Some(missing) = unknown {
            return Err(at_row(&chunk[*i].at, AppError::not_found("user", missing.clone())));
        }
        let leaders = leaders_of(&chunk[*i]);
        row.leader_user_id = Set(leaders.first().cloned());
        leader_rows.extend(leaders.into_iter().enumerate().map(|(k, user)| node_leader::ActiveModel {
            node_id: Set(done[*i].0.id.clone()),
            user_id: Set(user),
            user_pool_id: Set(pool.as_str().to_string()),
            position: Set(k as i32),
        }));
    }
    let mut levels: Vec<(i32, Vec<String>)> = Vec::new();
    for (i, _) in &new_rows {
        let p = &done[*i].0;
        match levels.last_mut() {
            Some((depth, ids)) if *depth == p.depth => ids.push(p.id.clone()),
            _ => levels.push((p.depth, vec![p.id.clone()])),
        }
    }
    let scim: Vec<(String, &str)> = new_rows.iter().filter_map(|(i, _)| Some((done[*i].0.id.clone(), chunk[*i].scim_external_id.as_deref()?))).collect();
    let rows: Vec<node::ActiveModel> = new_rows.into_iter().map(|(_, r)| r).collect();
    for rows in rows.chunks(NODES_PER_INSERT) {
        node::Entity::insert_many(rows.to_vec()).exec_without_returning(txn).await?;
    }
    // Parents first: a plan is breadth first, so the depths only grow.
    for (_, ids) in &levels {
        storage::tree::link_imported(txn, ids).await?;
    }
    for rows in leader_rows.chunks(1_000) {
        node_leader::Entity::insert_many(rows.to_vec()).exec_without_returning(txn).await?;
    }
    for (id, ext) in scim {
        scim::set_external_id(txn, pool, &id, Some(ext)).await?;
    }
    Ok(done)
}

/// With new ids, the node of the pool a template's node is: a root of its root's code (or
/// name, without a code); below the root, the node of its code in the org (or, without a code,
/// the child of its name of its parent).
async fn find_template_node(txn: &DatabaseTransaction, pool: &PoolId, plan: &NodePlan, parent: Option<&Placed>) -> AppResult<Option<Placed>> {
    let name = plan.input.fields.name.clone().unwrap_or_default();
    let mut q = node::Entity::find().filter(node::Column::UserPoolId.eq(pool.as_str()));
    q = match (parent, plan.input.fields.code.clone().flatten()) {
        (None, Some(code)) => q.filter(node::Column::ParentId.is_null()).filter(node::Column::Code.eq(code)),
        (None, None) => q.filter(node::Column::ParentId.is_null()).filter(node::Column::Code.is_null()).filter(node::Column::Name.eq(name)),
        (Some(p), Some(code)) => q.filter(node::Column::OrgId.eq(p.org.as_str())).filter(node::Column::Code.eq(code)),
        (Some(p), None) => q.filter(node::Column::ParentId.eq(p.id.as_str())).filter(node::Column::Code.is_null()).filter(node::Column::Name.eq(name)),
    };
    Ok(q.one(txn).await?.map(|n| Placed { id: n.id, org: n.org_id, depth: n.depth }))
}

/// Create a root with its organization (through the domain's in-transaction halves, its
/// events dropped), its SCIM external id and its leaders.
async fn import_root(txn: &DatabaseTransaction, outbox: &mut Outbox, pool: &PoolId, plan: &NodePlan, user_ids: &[String], new_ids: bool) -> AppResult<Placed> {
    let mut input = plan.input.clone();
    if !new_ids {
        input.id = Some(plan.key.clone());
    }
    let org = plan.org.clone().unwrap_or_default();
    let org = OrgInput { id: org.key.filter(|_| !new_ids), tenant_id: org.tenant_id };
    // Another pool's ids were refused when planned; one of this pool's is a conflict (a new
    // root cannot join an organization that has one).
    if let Some(id) = &org.id
        && find_org(txn, pool, id).await.is_ok()
    {
        return Err(AppError::Conflict { field: Some("orgId"), message: format!("organization {id} already exists in this pool") });
    }
    let (org, root) = create_org_with_root_in(txn, outbox, pool, org, input).await?;
    if let Some(ext) = &plan.scim_external_id {
        scim::set_external_id(txn, pool, &root.id, Some(ext)).await?;
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
        update_node_in(txn, outbox, pool, &root.id, patch).await?;
    }
    Ok(Placed { id: root.id, org: org.id, depth: 0 })
}

struct Member {
    node: String,
    org: String,
    user: String,
    leader: bool,
    main: bool,
    joined_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Add the memberships of `rows` that do not exist yet, in multi-row inserts (an existing one
/// is left as it is); how many were added. A new main department replaces the user's other
/// one, as `set_main_department` does. The counts are not kept here: the import recounts its
/// organizations once at the end (`counts::rebuild`).
async fn import_members(txn: &DatabaseTransaction, pool: &PoolId, rows: &[Member]) -> AppResult<usize> {
    // The memberships the users of new main departments had before (few: none in a new pool).
    let mains: Vec<String> = rows.iter().filter(|m| m.main).map(|m| m.user.clone()).collect();
    let mut before: Vec<(String, String, bool)> = Vec::new();
    for chunk in mains.chunks(1_000) {
        before.extend(
            membership::Entity::find()
                .select_only()
                .columns([membership::Column::NodeId, membership::Column::UserId, membership::Column::IsMainDepartment])
                .filter(membership::Column::UserId.is_in(chunk.to_vec()))
                .into_tuple::<(String, String, bool)>()
                .all(txn)
                .await?,
        );
    }
    let now = chrono::Utc::now();
    let mut created = 0;
    for part in rows.chunks(MEMBERS_PER_INSERT) {
        let models = part.iter().map(|m| membership::ActiveModel {
            node_id: Set(m.node.clone()),
            user_id: Set(m.user.clone()),
            user_pool_id: Set(pool.as_str().to_string()),
            org_id: Set(m.org.clone()),
            is_leader: Set(m.leader),
            is_main_department: Set(m.main),
            joined_at: Set(m.joined_at.unwrap_or(now)),
        });
        let insert = membership::Entity::insert_many(models)
            .on_conflict(OnConflict::columns([membership::Column::NodeId, membership::Column::UserId]).do_nothing().to_owned());
        created += insert.exec_without_returning(txn).await? as usize;
    }
    let had: HashSet<(&str, &str)> = before.iter().map(|(n, u, _)| (n.as_str(), u.as_str())).collect();
    for m in rows.iter().filter(|m| m.main && !had.contains(&(m.node.as_str(), m.user.as_str()))) {
        for (node, _, _) in before.iter().filter(|(n, u, main)| *main && u == &m.user && n != &m.node) {
            membership::Entity::update_many()
                .col_expr(membership::Column::IsMainDepartment, false.into())
                .filter(membership::Column::NodeId.eq(node.as_str()))
                .filter(membership::Column::UserId.eq(m.user.as_str()))
                .exec(txn)
                .await?;
        }
    }
    Ok(created)
}
