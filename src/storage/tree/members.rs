//! Member pages: one node's direct members or the distinct users of its subtree, in the order
//! asked, many nodes in one statement. Nothing is stored per (ancestor, user); each page is one
//! of two plans, chosen per node from its maintained count:
//!
//! - **walk**: read the pool's users (or, by join time, the org's memberships) in the page's
//!   order on an index, and keep those with a membership in the node or its subtree (a closure
//!   primary-key probe per membership; by join time, the membership's own node). Costs the page's rows divided by the subtree's share of
//!   the walked index: cheap for big subtrees. Bounded by a budget of rows walked.
//! - **gather**: read the subtree's memberships (the closure's range, then the membership
//!   primary key) and sort them. Costs the subtree's memberships: cheap for small subtrees, and
//!   the fallback when a walk runs out of budget before filling its page.
//!
//! A page starts at an offset, or after a [`Position`] (keyset): the position bounds the walked
//! index's range, so a page deep in a list costs what the first page costs.

use std::collections::HashMap;

use entity::{node, user};
use sea_orm::{ConnectionTrait, Value};

use super::counts;
use crate::{
    error::AppResult,
    storage::{
        keyset::Position,
        sql::{exec, placeholders, statement, strings},
        user_columns::UserColumns,
    },
};

/// The key a member page is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageKey {
    UserCreated,
    UserUpdated,
    /// When the user joined the node (for a subtree: entered it, their earliest membership in it).
    Joined,
}

/// A member of a page, with its position (where the next page starts).
#[derive(Debug, Clone)]
pub struct Member {
    pub user: user::Model,
    pub position: Position,
}

/// Which page of which members.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemberPage {
    pub limit: u64,
    /// Rows skipped after the start (the list's beginning, or `after`).
    pub offset: u64,
    /// Start after this member (keyset), not at the list's beginning.
    pub after: Option<Position>,
    pub key: PageKey,
    pub ascending: bool,
    /// The distinct users of the whole subtree, not only the direct members.
    pub subtree: bool,
    /// The user columns read (the rest are blank).
    pub columns: UserColumns,
}

/// A node whose members are paged, with what its page's plan depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageNode {
    pub id: String,
    pub pool: String,
    pub org: String,
    pub members: i64,
    pub subtree_members: i64,
}

impl From<&node::Model> for PageNode {
    fn from(n: &node::Model) -> Self {
        PageNode {
            id: n.id.clone(),
            pool: n.user_pool_id.clone(),
            org: n.org_id.clone(),
            members: n.member_count,
            subtree_members: n.subtree_member_count,
        }
    }
}

/// Up to this many members, a page gathers them all and sorts: that costs less than a walk.
pub const GATHER_UP_TO: i64 = 1_000;

/// Rows a walk reads at most: enough for subtrees holding a fiftieth of the walked index or more.
/// (Saturating: a page is walked only when its offset is below the node's count, but the plan
/// can be forced, and no input may overflow it.)
fn walk_budget(p: &MemberPage) -> i64 {
    let rows = p.offset.saturating_add(p.limit).saturating_mul(50).max(2_000);
    i64::try_from(rows).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Walk,
    Gather,
}

impl MemberPage {
    fn total(&self, n: &PageNode) -> i64 {
        if self.subtree { n.subtree_members } else { n.members }
    }

    /// How many rows the page of `n` holds: known from the counts when it starts at an offset,
    /// at most `limit` after a position.
    fn expected(&self, n: &PageNode) -> usize {
        let total = self.total(n).max(0) as u64;
        let left = if self.after.is_some() { total.min(self.limit) } else { total.saturating_sub(self.offset) };
        left.min(self.limit) as usize
    }

    /// The plan for `n`'s page, or none when it is empty.
    pub fn plan(&self, n: &PageNode) -> Option<Plan> {
        if self.expected(n) == 0 {
            return None;
        }
        Some(if self.total(n) <= GATHER_UP_TO { Plan::Gather } else { Plan::Walk })
    }
}

/// Placeholders `$2...` of one statement's values (`$1`, the offset, is shared). The limit is
/// written in the statement: a plan made for any value of a bound `LIMIT` (PostgreSQL's generic
/// plan, used after five runs of a prepared statement) guessed a tenth of the walked rows, and
/// joined them to every user by hash.
struct Params(Vec<Value>);

impl Params {
    fn new(p: &MemberPage) -> Self {
        Params(vec![(p.offset as i64).into()])
    }

    fn push(&mut self, v: impl Into<Value>) -> String {
        self.0.push(v.into());
        format!("${}", self.0.len())
    }
}

/// The column a page by user time sorts on.
fn user_key(p: &MemberPage) -> &'static str {
    match p.key {
        PageKey::UserUpdated => "updated_at",
        _ => "created_at",
    }
}

/// `AND (key, id)` after `p.after` in the page's order, or nothing.
fn after_clause(p: &MemberPage, key: &str, id: &str, params: &mut Params) -> String {
    let Some(after) = &p.after else { return String::new() };
    let (at, user) = (params.push(after.at), params.push(after.id.clone()));
    let cmp = if p.ascending { ">" } else { "<" };
    format!(" AND ({key}, {id}) {cmp} ({at}, {user})")
}

/// What a walk reads in the page's order (rows `id`, `k`, and by join time `node_id`), from
/// its start, without the budget.
fn walk_source(p: &MemberPage, n: &PageNode, params: &mut Params) -> String {
    let d = if p.ascending { "ASC" } else { "DESC" };
    match p.key {
        PageKey::UserCreated | PageKey::UserUpdated => {
            let k = user_key(p);
            let pool = params.push(n.pool.clone());
            let after = after_clause(p, k, "id", params);
            format!("SELECT id, {k} AS k FROM users WHERE user_pool_id = {pool}{after} ORDER BY {k} {d}, id {d}")
        }
        PageKey::Joined => {
            let org = params.push(n.org.clone());
            let after = after_clause(p, "joined_at", "user_id", params);
            format!("SELECT user_id AS id, node_id, joined_at AS k FROM membership WHERE org_id = {org}{after} ORDER BY joined_at {d}, user_id {d}")
        }
    }
}

/// The statement of `n`'s page by `plan`, its rows tagged `page_part` = `part` and their sort
/// key `page_k`.
fn part_sql(p: &MemberPage, plan: Plan, n: &PageNode, part: usize, params: &mut Params) -> String {
    let d = if p.ascending { "ASC" } else { "DESC" };
    let limit = p.limit;
    let user = p.columns.select("u");
    let node = params.push(n.id.clone());
    let user_key = user_key(p);
    match (plan, p.subtree, p.key) {
        (Plan::Walk, subtree, key) => {
            // Read the source in the page's order up to the budget; keep the rows in the node.
            let source = walk_source(p, n, params);
            let budget = params.push(walk_budget(p));
            let keep = match (subtree, key) {
                (true, PageKey::Joined) =>
                    // A user enters the subtree with their earliest membership in it (ties: the
                    // smaller node id): that one membership stands for them.
                    // (A subquery with `LIMIT 1` stays a probe per row: see `counts::member_under`.)
                    format!(
                        "EXISTS (SELECT 1 FROM node_closure c WHERE c.ancestor_id = {node} AND c.descendant_id = w.node_id)
                         AND (SELECT 1 FROM membership e CROSS JOIN node_closure c
                             WHERE e.user_id = w.id AND c.ancestor_id = {node} AND c.descendant_id = e.node_id
                             AND (e.joined_at < w.k OR (e.joined_at = w.k AND e.node_id < w.node_id)) LIMIT 1) IS NULL"),
                (false, PageKey::Joined) => format!("w.node_id = {node}"),
                (true, _) => counts::member_under("w.id", &node, "''"),
                (false, _) => format!("EXISTS (SELECT 1 FROM membership m WHERE m.node_id = {node} AND m.user_id = w.id)"),
            };
            format!(
                "SELECT {user}, p.k AS page_k, {part} AS page_part FROM (
                    SELECT w.id, w.k FROM ({source} LIMIT {budget}) w
                    WHERE {keep}
                    ORDER BY w.k {d}, w.id {d} LIMIT {limit} OFFSET $1) p
                 JOIN users u ON u.id = p.id ORDER BY p.k {d}, p.id {d}")
        }
        (Plan::Gather, true, PageKey::Joined) => {
            let after = after_clause(p, "g.k", "g.id", params);
            format!(
                "SELECT {user}, p.k AS page_k, {part} AS page_part FROM (
                    SELECT g.id, g.k FROM (
                        SELECT m.user_id AS id, MIN(m.joined_at) AS k
                        FROM node_closure c JOIN membership m ON m.node_id = c.descendant_id
                        WHERE c.ancestor_id = {node} GROUP BY m.user_id) g
                    WHERE 1 = 1{after}
                    ORDER BY g.k {d}, g.id {d} LIMIT {limit} OFFSET $1) p
                 JOIN users u ON u.id = p.id ORDER BY p.k {d}, p.id {d}")
        }
        (Plan::Gather, true, _) => {
            let after = after_clause(p, &format!("u.{user_key}"), "u.id", params);
            format!(
                "SELECT {user}, u.{user_key} AS page_k, {part} AS page_part FROM users u
                 WHERE u.id IN (SELECT m.user_id FROM node_closure c JOIN membership m ON m.node_id = c.descendant_id WHERE c.ancestor_id = {node}){after}
                 ORDER BY u.{user_key} {d}, u.id {d} LIMIT {limit} OFFSET $1")
        }
        (Plan::Gather, false, key) => {
            let key = if key == PageKey::Joined { "m.joined_at".to_string() } else { format!("u.{user_key}") };
            let after = after_clause(p, &key, "u.id", params);
            format!(
                "SELECT {user}, {key} AS page_k, {part} AS page_part FROM membership m JOIN users u ON u.id = m.user_id
                 WHERE m.node_id = {node}{after} ORDER BY {key} {d}, u.id {d} LIMIT {limit} OFFSET $1")
        }
    }
}

/// The statement of one node's page by `plan` and its values, for benchmarks that time the
/// database alone.
pub fn page_statement(p: &MemberPage, plan: Plan, n: &PageNode) -> (String, Vec<Value>) {
    let mut params = Params::new(p);
    let sql = part_sql(p, plan, n, 0, &mut params);
    (sql, params.0)
}

/// The same page of each of `nodes`: one statement per plan and 200 nodes (SQLite takes 500
/// terms in a compound SELECT), and one more for the walks that ran out of budget.
pub async fn pages(db: &impl ConnectionTrait, nodes: &[PageNode], p: &MemberPage) -> AppResult<HashMap<String, Vec<Member>>> {
    let mut out: HashMap<String, Vec<Member>> = HashMap::new();
    let planned = |plan: Plan| nodes.iter().filter(move |n| p.plan(n) == Some(plan)).collect::<Vec<_>>();
    let walked = planned(Plan::Walk);
    out.extend(pages_by(db, &walked, p, Plan::Walk).await?);
    // A walk that stopped before filling its page met too few members in its budget: the
    // subtree is sparse in the walked order, so its members are gathered instead. (After a
    // position the page's size is not known: a short walk that read all the rows left holds
    // the list's end.)
    let mut gathered = planned(Plan::Gather);
    for n in walked {
        if out.get(&n.id).map_or(0, Vec::len) < p.expected(n) && !(p.after.is_some() && walked_to_the_end(db, n, p).await?) {
            out.remove(&n.id);
            gathered.push(n);
        }
    }
    out.extend(pages_by(db, &gathered, p, Plan::Gather).await?);
    Ok(out)
}

/// Whether the walk of `n`'s page read every row left in its source (it ended within budget).
async fn walked_to_the_end(db: &impl ConnectionTrait, n: &PageNode, p: &MemberPage) -> AppResult<bool> {
    let mut params = Params(Vec::new());
    let source = walk_source(p, n, &mut params);
    let budget = params.push(walk_budget(p));
    let sql = format!("SELECT COUNT(*) AS n FROM ({source} LIMIT {budget}) w");
    let row = db.query_one_raw(statement(db, &sql, params.0)).await?;
    let read: i64 = row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0);
    Ok(read < walk_budget(p))
}

/// The page of each of `nodes` by `plan`, whatever their sizes (a walk may come back short when
/// it runs out of budget): [`pages`] chooses; tests and benchmarks compare the plans.
pub async fn pages_by(db: &impl ConnectionTrait, nodes: &[&PageNode], p: &MemberPage, plan: Plan) -> AppResult<HashMap<String, Vec<Member>>> {
    let mut out: HashMap<String, Vec<Member>> = HashMap::new();
    for chunk in nodes.chunks(200) {
        let mut params = Params::new(p);
        let sql = chunk
            .iter()
            .enumerate()
            .map(|(i, n)| format!("SELECT * FROM ({}) b{i}", part_sql(p, plan, n, i, &mut params)))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        for row in db.query_all_raw(statement(db, &sql, params.0)).await? {
            let part: i32 = row.try_get("", "page_part")?;
            if let Some(n) = chunk.get(part as usize) {
                let user = p.columns.decode(&row, "")?;
                let position = Position { at: row.try_get("", "page_k")?, id: user.id.clone() };
                out.entry(n.id.clone()).or_default().push(Member { user, position });
            }
        }
    }
    Ok(out)
}

/// Remove `users`' memberships of `node_id`, with the counts.
pub async fn remove(db: &impl ConnectionTrait, node_id: &str, users: &[String]) -> AppResult<()> {
    let mut values: Vec<Value> = vec![node_id.into()];
    values.extend(strings(users));
    exec(db, &format!("DELETE FROM membership WHERE node_id = $1 AND user_id IN ({})", placeholders(2, users.len())), values).await?;
    counts::members_removed(db, node_id, users).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_budget_never_overflows() {
        let p = |offset: u64, limit: u64| MemberPage {
            limit,
            offset,
            after: None,
            key: PageKey::UserCreated,
            ascending: false,
            subtree: true,
            columns: UserColumns::keys(),
        };
        assert_eq!(walk_budget(&p(0, 10)), 2_000);
        assert_eq!(walk_budget(&p(1_000, 10)), 50_500);
        assert_eq!(walk_budget(&p(i64::MAX as u64, 200)), i64::MAX);
    }
}
