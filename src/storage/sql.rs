//! Raw SQL for the statements sea-orm's builder cannot express well (tree maintenance, set-based
//! upserts). Placeholders are `$1`, `$2`, ... on both backends (sqlx maps `$N` on SQLite too).

use sea_orm::{ConnectionTrait, FromQueryResult, Statement, Value};

use crate::error::AppResult;

pub fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// Run a statement; returns the rows it changed.
pub async fn exec(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> AppResult<u64> {
    Ok(db.execute_raw(statement(db, sql, values)).await?.rows_affected())
}

pub async fn all<M: FromQueryResult>(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> AppResult<Vec<M>> {
    Ok(M::find_by_statement(statement(db, sql, values)).all(db).await?)
}

/// `SELECT COUNT(*) AS n ...` as a number.
pub async fn count(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> AppResult<u64> {
    #[derive(FromQueryResult)]
    struct Count {
        n: i64,
    }
    let rows = all::<Count>(db, sql, values).await?;
    Ok(rows.first().map_or(0, |c| c.n.max(0) as u64))
}

/// `LOWER(COALESCE(column, '')) [NOT] LIKE '%text%'`, with `%`, `_` and `\` in `text` matched
/// literally: a case-insensitive "contains" on both backends.
pub fn contains_ignoring_case(column: impl sea_orm::sea_query::IntoColumnRef, text: &str, negate: bool) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let pattern = format!("%{}%", text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let lowered = Expr::expr(Func::lower(Expr::expr(Func::coalesce([Expr::col(column), Expr::val("")]))));
    let like = LikeExpr::new(pattern).escape('\\');
    if negate { lowered.not_like(like) } else { lowered.like(like) }
}

/// `$first, $first+1, ...` for `n` values, for an `IN (...)` list.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Values for an `IN (...)` list of strings.
pub fn strings<S: AsRef<str>>(items: &[S]) -> Vec<Value> {
    items.iter().map(|s| Value::from(s.as_ref().to_string())).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_count_from_first() {
        assert_eq!(super::placeholders(3, 3), "$3, $4, $5");
        assert_eq!(super::placeholders(1, 0), "");
    }
}
