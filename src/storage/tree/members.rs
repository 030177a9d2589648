//! Member pages: one node's direct members (through `membership`) or the distinct users of its
//! subtree (one index range of `subtree_member`), in the order asked, many nodes in one statement.

use std::collections::HashMap;

use entity::user;
use sea_orm::{ConnectionTrait, Value};

use super::fanout;
use crate::{
    error::AppResult,
    storage::{
        sql::{exec, placeholders, statement, strings},
        user_columns::UserColumns,
    },
};

/// The key a member page is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageKey {
    UserCreated,
    UserUpdated,
    /// When the user joined the node (for a subtree: entered it).
    Joined,
}

/// Which page of which members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemberPage {
    pub limit: u64,
    pub offset: u64,
    pub key: PageKey,
    pub ascending: bool,
    /// The distinct users of the whole subtree, not only the direct members.
    pub subtree: bool,
    /// The user columns read (the rest are blank).
    pub columns: UserColumns,
}

/// The statement of one node's page: `$1` is the limit, `$2` the offset, `$node_param` the node
/// id. Each row carries the user's columns and `page_node_id`.
pub fn page_sql(p: MemberPage, node_param: usize) -> String {
    let d = if p.ascending { "ASC" } else { "DESC" };
    let user = p.columns.select("u");
    if p.subtree {
        let key = match p.key {
            PageKey::UserCreated => "s.user_created_at",
            PageKey::UserUpdated => "s.user_updated_at",
            PageKey::Joined => "s.joined_at",
        };
        format!(
            "SELECT {user}, s.ancestor_id AS page_node_id FROM subtree_member s JOIN users u ON u.id = s.user_id
             WHERE s.ancestor_id = ${node_param} ORDER BY {key} {d}, s.user_id {d} LIMIT $1 OFFSET $2")
    } else {
        let key = match p.key {
            PageKey::UserCreated => "u.created_at",
            PageKey::UserUpdated => "u.updated_at",
            PageKey::Joined => "m.joined_at",
        };
        format!(
            "SELECT {user}, m.node_id AS page_node_id FROM membership m JOIN users u ON u.id = m.user_id
             WHERE m.node_id = ${node_param} ORDER BY {key} {d}, u.id {d} LIMIT $1 OFFSET $2")
    }
}

/// The same page of each of `nodes`, in one statement per 200 nodes (SQLite takes 500 terms in
/// a compound SELECT).
pub async fn pages(db: &impl ConnectionTrait, nodes: &[String], p: MemberPage) -> AppResult<HashMap<String, Vec<user::Model>>> {
    let mut out: HashMap<String, Vec<user::Model>> = HashMap::new();
    for chunk in nodes.chunks(200) {
        let sql = (0..chunk.len())
            .map(|i| format!("SELECT * FROM ({}) b{i}", page_sql(p, i + 3)))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let mut values: Vec<Value> = vec![(p.limit as i64).into(), (p.offset as i64).into()];
        values.extend(strings(chunk));
        for row in db.query_all_raw(statement(db, &sql, values)).await? {
            let node: String = row.try_get("", "page_node_id")?;
            out.entry(node).or_default().push(p.columns.decode(&row, "")?);
        }
    }
    Ok(out)
}

/// Remove `users`' memberships of `node_id`, with the fan-out and counts.
pub async fn remove(db: &impl ConnectionTrait, node_id: &str, users: &[String]) -> AppResult<()> {
    let mut values: Vec<Value> = vec![node_id.into()];
    values.extend(strings(users));
    exec(db, &format!("DELETE FROM membership WHERE node_id = $1 AND user_id IN ({})", placeholders(2, users.len())), values).await?;
    fanout::remove_refs(db, node_id, users).await
}
