//! Whole trees imported over HTTP in one transaction (v2 `importByJson`, v3
//! `create-department-tree`): the rows a surface read, checked and written by
//! `domain::company`, within the server's import limits.

use serde_json::{Map, Value};

use super::HttpState;
use crate::{
    domain::{
        PoolId,
        company::{Company, Row},
    },
    error::{AppError, AppResult},
};

/// Most refusals one answer lists.
const MAX_REFUSALS: usize = 20;

/// Most rows (departments, users, memberships) one request imports: the import holds the write
/// turn until it is done. Larger companies go through `orgraph import`, in batches.
pub const MAX_ROWS: usize = 100_000;

/// Import `company` (ids kept) at once; the organizations it created, with their roots.
pub async fn import_tree(http: &HttpState, pool: &PoolId, company: Company, source: &'static str) -> AppResult<Vec<(entity::org::Model, entity::node::Model)>> {
    if company.rows() > MAX_ROWS {
        return Err(AppError::invalid("file", format!(
            "the file has {} rows (departments, users, memberships); one request imports at most {MAX_ROWS}: use `orgraph import`",
            company.rows())));
    }
    let plan = match http.app.company.plan(pool, &company, MAX_REFUSALS, false).await? {
        Ok(plan) => plan,
        Err(refused) => {
            let refusals = refused.refusals;
            let list: Vec<String> = refusals.iter().map(ToString::to_string).collect();
            return Err(AppError::invalid("file", format!("{} refused: {}", plural(refusals.len()), list.join("; "))));
        }
    };
    let max = http.app.config.limits.max_import_closure_rows;
    if plan.closure_rows() > max {
        return Err(AppError::invalid("file", format!(
            "the tree is too large to import at once: its nodes have more than {max} ancestor links in all \
             (--max-import-closure-rows); import a shallower or smaller tree, or use `orgraph import`")));
    }
    http.app.company.import_at_once(pool, &plan, &company, source).await
}

fn plural(n: usize) -> String {
    if n == 1 { "1 row".into() } else { format!("{n} rows") }
}

/// The rows of trees in Authing's v2 export format (seed 001): each node's fields, `children`
/// (nested nodes) and `members` (users with `joinedAt`, `isLeader` and `mainDepartmentId`).
/// A node or user without an id gets a new one; the keys of the document that are not data
/// (`depth`, `root`, `userPoolId`, tokens, counters) are left out.
pub fn v2_tree_rows(trees: &[Value]) -> AppResult<Company> {
    let mut company = Company::default();
    let mut seen_users = std::collections::HashSet::new();
    let node_columns = crate::domain::company::node_columns();
    let user_columns = crate::domain::company::user_columns();
    let mut level: Vec<(&Value, String, Option<String>)> = trees.iter().enumerate().map(|(i, t)| (t, format!("file[{i}]"), None)).collect();
    if trees.len() == 1 {
        level[0].1 = "file".into();
    }
    while !level.is_empty() {
        let mut next = Vec::new();
        for (node, at, parent) in level {
            let Value::Object(doc) = node else {
                return Err(AppError::invalid(at.clone(), format!("{at}: must be an object with name, code, description, children")));
            };
            let id = text_id(doc.get("id")).unwrap_or_else(crate::ids::new_id);
            // Refusals name a node by its place and, when it has one, its code.
            let label = match doc.get("code").and_then(Value::as_str) {
                Some(code) => format!("{at} (code {code:?})"),
                None => at.clone(),
            };
            let mut fields: Map<String, Value> = doc.iter().filter(|(k, _)| node_columns.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
            fields.insert("id".into(), Value::from(id.as_str()));
            fields.insert("parentId".into(), parent.map_or(Value::Null, Value::from));
            fields.retain(|_, v| !v.is_null());
            company.nodes.push(Row { at: label, fields });
            for (i, m) in list(doc, "members", &at)?.iter().enumerate() {
                let m_at = format!("{at}.members[{i}]");
                let Value::Object(user) = m else { return Err(AppError::invalid(m_at.clone(), format!("{m_at}: a member must be an object"))) };
                let user_id = text_id(user.get("id")).unwrap_or_else(crate::ids::new_id);
                if seen_users.insert(user_id.clone()) {
                    let mut fields: Map<String, Value> = user.iter().filter(|(k, v)| user_columns.contains(&k.as_str()) && *k != "passwordHash" && !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
                    fields.insert("id".into(), Value::from(user_id.as_str()));
                    company.users.push(Row { at: m_at.clone(), fields });
                }
                let main = user.get("mainDepartmentId").and_then(Value::as_str) == Some(id.as_str());
                let mut fields = Map::new();
                fields.insert("nodeId".into(), Value::from(id.as_str()));
                fields.insert("userId".into(), Value::from(user_id));
                fields.insert("isMainDepartment".into(), Value::Bool(main));
                for key in ["isLeader", "joinedAt"] {
                    if let Some(v) = user.get(key).filter(|v| !v.is_null()) {
                        fields.insert(key.into(), v.clone());
                    }
                }
                company.memberships.push(Row { at: m_at, fields });
            }
            for (i, child) in list(doc, "children", &at)?.iter().enumerate() {
                next.push((child, format!("{at}.children[{i}]"), Some(id.clone())));
            }
        }
        level = next;
    }
    Ok(company)
}

fn text_id(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn list<'a>(doc: &'a Map<String, Value>, key: &str, at: &str) -> AppResult<&'a [Value]> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(AppError::invalid(at.to_string(), format!("{at}: {key} must be a list"))),
    }
}
