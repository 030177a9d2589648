//! Import of a whole tree from JSON (Authing's `importByJson` format) and export of trees with
//! their members (the recursive format of seed 001).

use std::collections::{HashMap, HashSet};

use entity::{membership, node, node_closure, org, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use super::{NodeInput, OrgService, ensure_org_code_free, find_org, org_nodes};
use serde_json::json;

use crate::{
    domain::{
        PoolId,
        docs::{node_doc, org_doc},
        events::Outbox,
    },
    error::{AppError, AppResult},
    ids,
    storage,
};

/// Most nodes one import may create.
pub const MAX_IMPORT_NODES: usize = 100_000;

/// One node of an import, validated.
#[derive(Debug, Clone)]
pub struct ImportNode {
    pub input: NodeInput,
    pub children: Vec<ImportNode>,
}

impl ImportNode {
    /// Read and validate the tree; an error names the node (by its path and code) that is wrong.
    pub fn parse(tree: &Value) -> AppResult<Self> {
        let mut count = 0;
        let mut codes = HashSet::new();
        parse_node(tree, "file", 0, &mut count, &mut codes)
    }
}

fn parse_node(v: &Value, path: &str, depth: usize, count: &mut usize, codes: &mut HashSet<String>) -> AppResult<ImportNode> {
    let wrong = |what: String| AppError::invalid(path, format!("{path}: {what}"));
    let obj = v.as_object().ok_or_else(|| wrong("must be an object with name, code, description, children".into()))?;
    *count += 1;
    if *count > MAX_IMPORT_NODES {
        return Err(AppError::invalid("file", format!("an import may hold at most {MAX_IMPORT_NODES} nodes")));
    }
    if depth > super::MAX_DEPTH as usize {
        return Err(wrong(format!("the tree is deeper than {} levels", super::MAX_DEPTH)));
    }
    let text = |key: &str| -> AppResult<Option<String>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Object(_)) if key.ends_with("I18n") => Ok(Some(obj[key].to_string())),
            Some(_) => Err(wrong(format!("{key} must be a string"))),
        }
    };
    let code = text("code")?;
    let label = match &code { Some(c) => format!("{path} (code {c:?})"), None => path.to_string() };
    let name = text("name")?.ok_or_else(|| AppError::invalid(path, format!("{label}: name is missing")))?;
    let order = match obj.get("order") {
        None | Some(Value::Null) => None,
        Some(o) => Some(o.as_i64().ok_or_else(|| AppError::invalid(path, format!("{label}: order must be an integer")))?),
    };
    let input = NodeInput::new(&name, code.as_deref(), text("description")?.as_deref(), order,
        text("nameI18n")?.as_deref(), text("descriptionI18n")?.as_deref())
        .map_err(|e| AppError::invalid(path, format!("{label}: {e}")))?;
    if let Some(code) = &input.code
        && !codes.insert(code.clone())
    {
        return Err(AppError::Conflict { field: Some("code"), message: format!("{label}: code {code:?} appears twice in the tree") });
    }
    let children = match obj.get("children") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, c)| parse_node(c, &format!("{path}.children[{i}]"), depth + 1, count, codes))
            .collect::<AppResult<_>>()?,
        Some(_) => return Err(wrong("children must be a list".into())),
    };
    Ok(ImportNode { input, children })
}

/// A node with its children and direct members, for export.
#[derive(Debug, Clone)]
pub struct ExportNode {
    pub node: node::Model,
    pub children: Vec<ExportNode>,
    pub members: Vec<user::Model>,
}

impl OrgService {
    /// Create an organization from a tree, all of it or (on any error) nothing.
    pub async fn import_tree(&self, pool: &PoolId, tree: ImportNode) -> AppResult<org::Model> {
        let now = chrono::Utc::now();
        let txn = storage::begin_write(&self.db).await?;
        if let Some(code) = &tree.input.code {
            ensure_org_code_free(&txn, pool, code, None).await?;
        }
        let org_id = ids::new_id();
        // Flatten depth-first, keeping each node's ancestor ids for the closure rows.
        let mut nodes: Vec<node::ActiveModel> = Vec::new();
        let mut closure: Vec<node_closure::ActiveModel> = Vec::new();
        let mut stack: Vec<(ImportNode, Vec<String>)> = vec![(tree, Vec::new())];
        let mut root_id = String::new();
        while let Some((item, ancestors)) = stack.pop() {
            let id = ids::new_id();
            if ancestors.is_empty() {
                root_id = id.clone();
            }
            let depth = ancestors.len() as i32;
            nodes.push(node::ActiveModel {
                id: Set(id.clone()),
                user_pool_id: Set(pool.as_str().to_string()),
                org_id: Set(org_id.clone()),
                parent_id: Set(ancestors.last().cloned()),
                name: Set(item.input.name),
                name_i18n: Set(item.input.name_i18n),
                description: Set(item.input.description),
                description_i18n: Set(item.input.description_i18n),
                order: Set(item.input.order),
                code: Set(item.input.code),
                leader_user_id: Set(None),
                depth: Set(depth),
                member_count: Set(0),
                subtree_member_count: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
            });
            for (i, a) in ancestors.iter().enumerate() {
                closure.push(node_closure::ActiveModel {
                    ancestor_id: Set(a.clone()),
                    descendant_id: Set(id.clone()),
                    depth: Set(depth - i as i32),
                });
            }
            closure.push(node_closure::ActiveModel { ancestor_id: Set(id.clone()), descendant_id: Set(id.clone()), depth: Set(0) });
            let mut path = ancestors;
            path.push(id);
            for child in item.children.into_iter().rev() {
                stack.push((child, path.clone()));
            }
        }
        org::ActiveModel {
            id: Set(org_id.clone()),
            user_pool_id: Set(pool.as_str().to_string()),
            root_node_id: Set(root_id),
            tenant_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let node_count = nodes.len();
        // Parents come before children, so the parent foreign key holds row by row.
        for chunk in chunked(nodes, 500) {
            node::Entity::insert_many(chunk).exec(&txn).await?;
        }
        for chunk in chunked(closure, 1000) {
            node_closure::Entity::insert_many(chunk).exec(&txn).await?;
        }
        let org = find_org(&txn, pool, &org_id).await?;
        let root = super::find_node(&txn, pool, &org.root_node_id).await?;
        let mut outbox = Outbox::new(pool);
        outbox.record(&txn, "organization:imported", Some(&org_id), json!({
            "organization": org_doc(&org), "rootNode": node_doc(&root), "nodesCount": node_count, "source": "JSON",
        })).await?;
        txn.commit().await?;
        self.bus.publish(outbox);
        Ok(org)
    }

    /// One organization as a tree with the members of each node.
    pub async fn export_org(&self, pool: &PoolId, org_id: &str) -> AppResult<ExportNode> {
        let org = find_org(&self.db, pool, org_id).await?;
        let nodes = org_nodes(&self.db, org_id).await?;
        let members = membership::Entity::find()
            .filter(membership::Column::OrgId.eq(org_id))
            .order_by_asc(membership::Column::JoinedAt)
            .all(&self.db)
            .await?;
        let user_ids: Vec<String> = members.iter().map(|m| m.user_id.clone()).collect::<HashSet<_>>().into_iter().collect();
        let mut users: HashMap<String, user::Model> = HashMap::new();
        for chunk in user_ids.chunks(1000) {
            for u in user::Entity::find().filter(user::Column::Id.is_in(chunk.to_vec())).all(&self.db).await? {
                users.insert(u.id.clone(), u);
            }
        }
        let mut members_of: HashMap<String, Vec<user::Model>> = HashMap::new();
        for m in members {
            if let Some(u) = users.get(&m.user_id) {
                members_of.entry(m.node_id).or_default().push(u.clone());
            }
        }
        // Build bottom-up (nodes come by depth), so no recursion however deep the tree.
        let mut built: HashMap<String, Vec<ExportNode>> = HashMap::new();
        for node in nodes.into_iter().rev() {
            let mut children = built.remove(&node.id).unwrap_or_default();
            children.reverse();
            let members = members_of.remove(&node.id).unwrap_or_default();
            built.entry(node.parent_id.clone().unwrap_or_default()).or_default().push(ExportNode { node, children, members });
        }
        built
            .remove("")
            .and_then(|mut roots| roots.pop())
            .filter(|root| root.node.id == org.root_node_id)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("organization {org_id} has no root node")))
    }

    /// Every organization of the pool, as trees.
    pub async fn export_all(&self, pool: &PoolId) -> AppResult<Vec<ExportNode>> {
        let mut out = Vec::new();
        for id in self.org_ids(pool).await? {
            out.push(self.export_org(pool, &id).await?);
        }
        Ok(out)
    }
}

fn chunked<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut it = items.into_iter().peekable();
    while it.peek().is_some() {
        out.push(it.by_ref().take(size).collect());
    }
    out
}
