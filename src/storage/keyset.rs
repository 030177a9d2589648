//! Keyset positions: where a row stands in a list ordered by a timestamp then the row's id.
//! A page that starts after a position reads from there on the list's index, so a page deep in
//! a list costs what the first costs, and rows added or removed elsewhere shift nothing.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, sea_query::Condition};

use crate::error::AppResult;

/// A row's place in its list: its sort key's value and its id (the tie-breaker).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position {
    pub at: DateTime<Utc>,
    pub id: String,
}

/// Up to `limit` rows of `select` in the order of (`at`, `id`), ascending or not, after
/// `after`. The condition is written `at >= x AND (at > x OR id > y)` (reversed when
/// descending) so that both databases bound the index range by its first part.
pub async fn rows_after<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    (at, id): (E::Column, E::Column),
    ascending: bool,
    after: Option<&Position>,
    limit: u64,
) -> AppResult<Vec<E::Model>> {
    let mut select = select;
    if let Some(p) = after {
        let beyond = if ascending {
            Condition::all().add(at.gte(p.at)).add(Condition::any().add(at.gt(p.at)).add(id.gt(p.id.as_str())))
        } else {
            Condition::all().add(at.lte(p.at)).add(Condition::any().add(at.lt(p.at)).add(id.lt(p.id.as_str())))
        };
        select = select.filter(beyond);
    }
    let select = if ascending { select.order_by_asc(at).order_by_asc(id) } else { select.order_by_desc(at).order_by_desc(id) };
    Ok(select.limit(limit).all(db).await?)
}
