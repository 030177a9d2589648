//! The ids the file keeps for the pool's permissions, webhooks and event types: each must be an
//! id (1 to 64 of `A-Z a-z 0-9 _ -`) that no other row of its table holds, in this pool or in
//! another (a row of the pool that is the same one, found by its natural key, may hold it: it
//! is skipped).

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use crate::{domain::validate, error::AppResult, storage::sql};

/// Why `id` cannot be kept as an id, if it cannot.
pub(super) fn not_an_id(id: &str) -> Option<String> {
    validate::identifier("id", id).err().map(|_| format!("id {id:?} cannot be kept: an id is 1 to 64 letters, digits, '-' or '_'"))
}

#[derive(sea_orm::FromQueryResult)]
struct Owner {
    id: String,
    user_pool_id: String,
}

/// The rows of `table` (a table of this crate's schema) holding any of `ids`: id → its pool.
pub(super) async fn owners(db: &impl ConnectionTrait, table: &'static str, ids: &[&str]) -> AppResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<Owner> = sql::all(db, &format!("SELECT id, user_pool_id FROM {table} WHERE id IN ({})", sql::placeholders(1, chunk.len())), sql::strings(chunk)).await?;
        out.extend(rows.into_iter().map(|r| (r.id, r.user_pool_id)));
    }
    Ok(out)
}

/// Where a kept `id` is taken: `None` when it is free, or held by `same` (the pool's row the
/// file's row is).
pub(super) fn taken(owners: &HashMap<String, String>, id: &str, pool: &str, same: Option<&str>) -> Option<&'static str> {
    match owners.get(id) {
        None => None,
        Some(_) if same == Some(id) => None,
        Some(p) if p == pool => Some("this pool"),
        Some(_) => Some("another pool"),
    }
}
