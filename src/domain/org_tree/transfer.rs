//! Import of a whole tree from JSON (Authing's `importByJson` format) and export of trees with
//! their members (the recursive format of seed 001).

use std::collections::{HashMap, HashSet};

use entity::{membership, node, org, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use super::{NodeInput, OrgService, ensure_org_code_free, find_org, org_nodes};

use crate::{
    storage::tree,
    domain::{
        PoolId,
        docs::{NodeDoc, OrgDoc},
        events::DomainEvent,
    },
    error::{AppError, AppResult},
    ids,
};

/// Most nodes one import may create.
pub const MAX_IMPORT_NODES: usize = 100_000;

/// What one import may create: it bounds how long the import holds the write turn.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    /// Closure rows: each node with each of its ancestors and itself.
    pub max_closure_rows: usize,
}

/// One node of an import, validated.
#[derive(Debug, Clone)]
pub struct ImportNode {
    pub input: NodeInput,
    pub children: Vec<ImportNode>,
}

impl ImportNode {
    /// Read and validate the tree; an error names the node (by its path and code) that is wrong.
    pub fn parse(tree: &Value, limits: ImportLimits) -> AppResult<Self> {
        let mut tally = Tally { limits, ..Default::default() };
        parse_node(tree, "file", 0, &mut tally)
    }

    /// The nodes of this tree, itself included (what an import of it creates).
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(ImportNode::count).sum::<usize>()
    }
}

#[derive(Default)]
struct Tally {
    limits: ImportLimits,
    nodes: usize,
    closure_rows: usize,
    codes: HashSet<String>,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits { max_closure_rows: usize::MAX }
    }
}

fn parse_node(v: &Value, path: &str, depth: usize, tally: &mut Tally) -> AppResult<ImportNode> {
    let wrong = |what: String| AppError::invalid(path, format!("{path}: {what}"));
    let obj = v.as_object().ok_or_else(|| wrong("must be an object with name, code, description, children".into()))?;
    tally.nodes += 1;
    if tally.nodes > MAX_IMPORT_NODES {
        return Err(AppError::invalid("file", format!("an import may hold at most {MAX_IMPORT_NODES} nodes")));
    }
    tally.closure_rows += depth + 1;
    if tally.closure_rows > tally.limits.max_closure_rows {
        return Err(AppError::invalid("file", format!(
            "the tree is too large to import at once: its nodes have more than {} ancestor links in all \
             (--max-import-closure-rows); import a shallower or smaller tree, or raise the limit",
            tally.limits.max_closure_rows)));
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
        && !tally.codes.insert(code.clone())
    {
        return Err(AppError::Conflict { field: Some("code"), message: format!("{label}: code {code:?} appears twice in the tree") });
    }
    let children = match obj.get("children") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, c)| parse_node(c, &format!("{path}.children[{i}]"), depth + 1, tally))
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
    pub members: Vec<ExportMember>,
}

/// A member in an export, with the user's main department (of any org of the pool).
#[derive(Debug, Clone)]
pub struct ExportMember {
    pub user: user::Model,
    pub main_department: Option<node::Model>,
}

impl OrgService {
    /// Create an organization from a tree, all of it or (on any error) nothing. The rows are
    /// prepared before the write turn is taken; under it, nodes go in multi-row inserts and the
    /// closure is computed by the database, one statement per level.
    pub async fn import_tree(&self, pool: &PoolId, tree: ImportNode) -> AppResult<org::Model> {
        let now = chrono::Utc::now();
        let org_id = ids::new_id();
        let org_code = tree.input.code.clone();
        let (nodes, height) = flatten(pool, &org_id, tree, now);
        let root_id = nodes.first().map(|n| n.id.clone()).unwrap_or_default();
        let node_count = nodes.len();
        let org_row = org::ActiveModel {
            id: Set(org_id.clone()),
            user_pool_id: Set(pool.as_str().to_string()),
            root_node_id: Set(root_id),
            tenant_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        self.writer
            .write(pool, async |txn, outbox| {
                if let Some(code) = &org_code {
                    ensure_org_code_free(txn, pool, code, None).await?;
                }
                let org = org_row.insert(txn).await?;
                // Parents come before children (by depth), so the parent foreign key holds.
                for chunk in nodes.chunks(NODES_PER_INSERT) {
                    node::Entity::insert_many(chunk.iter().cloned().map(node::ActiveModel::from)).exec(txn).await?;
                }
                tree::link_imported_org(txn, &org_id, height).await?;
                let root = super::find_node(txn, pool, &org.root_node_id).await?;
                outbox.record(DomainEvent::OrganizationImported {
                    organization: OrgDoc::from(&org), root_node: NodeDoc::from(&root), nodes_count: node_count, source: "JSON",
                });
                Ok(org)
            })
            .await
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
        let mut main_of: HashMap<String, node::Model> = HashMap::new();
        for chunk in user_ids.chunks(1000) {
            for (user, deps) in self.departments_of(pool, chunk, None).await? {
                if let Some(main) = deps.into_iter().find(|d| d.is_main) {
                    main_of.insert(user, main.node);
                }
            }
        }
        let mut members_of: HashMap<String, Vec<ExportMember>> = HashMap::new();
        for m in members {
            if let Some(u) = users.get(&m.user_id) {
                let member = ExportMember { user: u.clone(), main_department: main_of.get(&u.id).cloned() };
                members_of.entry(m.node_id).or_default().push(member);
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

/// Rows per multi-row node insert (16 columns: 16,000 parameters, within both databases' limits).
const NODES_PER_INSERT: usize = 1_000;

/// The node rows of an imported tree, breadth first (by depth), and the tree's height.
fn flatten(pool: &PoolId, org_id: &str, tree: ImportNode, now: chrono::DateTime<chrono::Utc>) -> (Vec<node::Model>, i32) {
    let mut rows = Vec::new();
    let mut level: Vec<(ImportNode, Option<String>)> = vec![(tree, None)];
    let mut depth = 0;
    while !level.is_empty() {
        let mut next = Vec::new();
        for (item, parent_id) in level {
            let id = ids::new_id();
            for child in item.children {
                next.push((child, Some(id.clone())));
            }
            let input = item.input;
            rows.push(node::Model {
                id,
                user_pool_id: pool.as_str().to_string(),
                org_id: org_id.to_string(),
                parent_id,
                name: input.name,
                name_i18n: input.name_i18n,
                description: input.description,
                description_i18n: input.description_i18n,
                order: input.order,
                code: input.code,
                leader_user_id: None,
                depth,
                member_count: 0,
                subtree_member_count: 0,
                open_department_id: input.open_department_id,
                i18n: input.i18n,
                custom_data: input.custom_data,
                enabled: true,
                is_virtual: input.is_virtual,
                created_at: now,
                updated_at: now,
            });
        }
        level = next;
        depth += 1;
    }
    (rows, (depth - 1).max(0))
}
