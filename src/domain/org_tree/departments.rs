//! The v3 view of the tree: an organization is named by its code (the root node's code), a
//! department by its id, its `openDepartmentId` or its code within the organization, and `root`
//! is the organization's root. The changes run the same node rules (`nodes.rs`) as v2.

use std::collections::HashMap;

use entity::{node, org};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{
    DepartmentPatch, NodeInput, NodePatch, OrgInput, OrgService, find_node, find_org,
    nodes::{add_node_in, leaders_of, move_node_in, update_node_in},
    orgs::create_org_with_root_in,
};
use crate::{
    domain::{
        PoolId,
        pagination::{Page, Paginated},
        validate,
    },
    error::{AppError, AppResult},
    ids,
    storage::sql,
};

/// Most departments one answer lists (`get-all-departments`).
pub const MAX_ALL_DEPARTMENTS: usize = 10_000;

/// Which of its ids names a department (the wire's names: `views::v3_names`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DepartmentIdType {
    #[default]
    Id,
    OpenId,
    Code,
}

/// A department of an organization, as v3 calls name it.
#[derive(Debug, Clone)]
pub struct DepartmentRef {
    pub organization_code: String,
    pub department_id: String,
    pub id_type: DepartmentIdType,
}

/// What a v3 department shows besides its row. `organization_code` and `parent_code` are the
/// codes of its org's root and of its parent.
#[derive(Debug, Clone, Default)]
pub struct DepartmentFacts {
    pub organization_code: Option<String>,
    pub tenant_id: Option<String>,
    pub parent_code: Option<String>,
    pub has_children: bool,
    pub leader_user_ids: Vec<String>,
}

/// Filters of `list-children-departments`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChildFilter {
    pub enabled: Option<bool>,
    pub exclude_virtual: bool,
    pub only_virtual: bool,
}

/// A field of `search-departments-list` filters and sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepartmentField {
    Name,
    CreatedAt,
    UpdatedAt,
}

impl DepartmentField {
    pub fn parse(field: &str, value: &str) -> AppResult<Self> {
        match value {
            "name" => Ok(Self::Name),
            "createdAt" => Ok(Self::CreatedAt),
            "updatedAt" => Ok(Self::UpdatedAt),
            _ => Err(AppError::invalid(field, format!("{field} must be name, createdAt or updatedAt, got {value:?}"))),
        }
    }

    fn column(self) -> node::Column {
        match self {
            Self::Name => node::Column::Name,
            Self::CreatedAt => node::Column::CreatedAt,
            Self::UpdatedAt => node::Column::UpdatedAt,
        }
    }
}

/// One condition of `search-departments-list` (`advancedFilter`), values already typed.
#[derive(Debug, Clone)]
pub enum DepartmentFilter {
    NameEquals(String),
    NameIn(Vec<String>),
    NameContains(String),
    /// A time range on `createdAt`/`updatedAt`; either end may be open.
    Between(DepartmentField, Option<chrono::DateTime<chrono::Utc>>, Option<chrono::DateTime<chrono::Utc>>),
}

/// The `search-departments-list` query.
#[derive(Debug, Clone)]
pub struct DepartmentSearch {
    pub page: Page,
    pub filters: Vec<DepartmentFilter>,
    /// Sort keys in order; `true` = ascending. Ties by age, then id.
    pub sort: Vec<(DepartmentField, bool)>,
}

/// The org named by `code` (its root's code).
pub(super) async fn find_org_by_code(db: &impl ConnectionTrait, pool: &PoolId, code: &str) -> AppResult<(org::Model, node::Model)> {
    let root = node::Entity::find()
        .filter(node::Column::UserPoolId.eq(pool.as_str()))
        .filter(node::Column::ParentId.is_null())
        .filter(node::Column::Code.eq(code.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("organization with code", code))?;
    Ok((find_org(db, pool, &root.org_id).await?, root))
}

/// The department `id` names (by `id_type`) in `org`; `root` is the org's root.
pub(super) async fn find_in_org(db: &impl ConnectionTrait, pool: &PoolId, org: &org::Model, id: &str, id_type: DepartmentIdType) -> AppResult<node::Model> {
    let id = id.trim();
    if id == "root" {
        return find_node(db, pool, &org.root_node_id).await;
    }
    let column = match id_type {
        DepartmentIdType::Id => node::Column::Id,
        DepartmentIdType::OpenId => node::Column::OpenDepartmentId,
        DepartmentIdType::Code => node::Column::Code,
    };
    node::Entity::find()
        .filter(node::Column::OrgId.eq(org.id.as_str()))
        .filter(column.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("department", id))
}

pub(super) async fn find_department(db: &impl ConnectionTrait, pool: &PoolId, r: &DepartmentRef) -> AppResult<(org::Model, node::Model)> {
    let (org, _) = find_org_by_code(db, pool, &r.organization_code).await?;
    let node = find_in_org(db, pool, &org, &r.department_id, r.id_type).await?;
    Ok((org, node))
}

#[derive(FromQueryResult)]
struct FactRow {
    id: String,
    organization_code: Option<String>,
    tenant_id: Option<String>,
    parent_code: Option<String>,
    has_children: bool,
}

impl OrgService {
    /// An organization by code, with its root node.
    pub async fn organization(&self, pool: &PoolId, code: &str) -> AppResult<(org::Model, node::Model)> {
        find_org_by_code(&self.db, pool, code).await
    }

    /// The organizations of `codes` that exist, in the order asked.
    pub async fn organizations_by_codes(&self, pool: &PoolId, codes: &[String]) -> AppResult<Vec<node::Model>> {
        let roots = node::Entity::find()
            .filter(node::Column::UserPoolId.eq(pool.as_str()))
            .filter(node::Column::ParentId.is_null())
            .filter(node::Column::Code.is_in(codes.to_vec()))
            .all(&self.db)
            .await?;
        Ok(codes.iter().filter_map(|c| roots.iter().find(|r| r.code.as_deref() == Some(c.as_str())).cloned()).collect())
    }

    /// A page of the pool's organizations (their root nodes), oldest first; only enabled or
    /// disabled ones when `enabled` is given; those whose name or code contains `keywords`.
    pub async fn organizations(&self, pool: &PoolId, page: Page, enabled: Option<bool>, keywords: Option<&str>) -> AppResult<Paginated<node::Model>> {
        let mut q = node::Entity::find().filter(node::Column::UserPoolId.eq(pool.as_str())).filter(node::Column::ParentId.is_null());
        if let Some(enabled) = enabled {
            q = q.filter(node::Column::Enabled.eq(enabled));
        }
        if let Some(k) = keywords {
            q = q.filter(contains(k)?);
        }
        let total_count = q.clone().count(&self.db).await?;
        let list = q
            .order_by_asc(node::Column::CreatedAt)
            .order_by_asc(node::Column::Id)
            .offset(page.offset())
            .limit(page.limit)
            .all(&self.db)
            .await?;
        Ok(Paginated { total_count, list })
    }

    /// A new organization whose root has `root`'s fields; without a code it gets a generated
    /// one (v3 names organizations by code).
    pub async fn create_organization(&self, pool: &PoolId, root: DepartmentPatch, tenant_id: Option<String>) -> AppResult<(org::Model, node::Model)> {
        let mut root = root.check()?;
        if root.code.clone().flatten().is_none() {
            root.code = Some(Some(format!("org-{}", &ids::new_id().replace('-', "")[..16])));
        }
        let tenant_id = tenant_id.map(|t| validate::optional_text("tenantId", &t, 64)).transpose()?.flatten();
        let org = OrgInput { tenant_id, ..Default::default() };
        let root = NodeInput::from(root);
        self.writer.write(pool, async |txn, outbox| create_org_with_root_in(txn, outbox, pool, org.clone(), root.clone()).await).await
    }

    /// Change the root of the organization named `code`.
    pub async fn update_organization(&self, pool: &PoolId, code: &str, patch: NodePatch) -> AppResult<node::Model> {
        self.writer
            .write(pool, async |txn, outbox| {
                let (_, root) = find_org_by_code(txn, pool, code).await?;
                update_node_in(txn, outbox, pool, &root.id, patch.clone()).await
            })
            .await
    }

    pub async fn delete_organization(&self, pool: &PoolId, code: &str) -> AppResult<()> {
        let (org, _) = find_org_by_code(&self.db, pool, code).await?;
        self.delete_org(pool, &org.id).await
    }

    /// Enable or disable an organization, named by its root node's id.
    pub async fn set_organization_status(&self, pool: &PoolId, root_node_id: &str, enabled: bool) -> AppResult<node::Model> {
        let root = find_node(&self.db, pool, root_node_id).await?;
        if root.parent_id.is_some() {
            return Err(AppError::invalid("rootNodeId", format!("{root_node_id} is a department, not the root of an organization")));
        }
        self.update_node(pool, root_node_id, DepartmentPatch { enabled: Some(enabled), ..Default::default() }.into()).await
    }

    pub async fn department(&self, pool: &PoolId, r: &DepartmentRef) -> AppResult<node::Model> {
        Ok(find_department(&self.db, pool, r).await?.1)
    }

    /// A department under `parent` (named as `parent.id_type` says) of the organization.
    pub async fn create_department(&self, pool: &PoolId, parent: &DepartmentRef, input: NodeInput) -> AppResult<node::Model> {
        self.writer
            .write(pool, async |txn, outbox| {
                let (org, parent) = find_department(txn, pool, parent).await?;
                add_node_in(txn, outbox, pool, &org.id, Some(&parent.id), input.clone()).await
            })
            .await
    }

    /// Change a department and, when `new_parent` is given (named as `r.id_type` says), move it
    /// there: one transaction.
    pub async fn update_department(&self, pool: &PoolId, r: &DepartmentRef, patch: NodePatch, new_parent: Option<&str>) -> AppResult<node::Model> {
        self.writer
            .write(pool, async |txn, outbox| {
                let (org, node) = find_department(txn, pool, r).await?;
                if let Some(parent) = new_parent {
                    let parent = find_in_org(txn, pool, &org, parent, r.id_type).await?;
                    if node.parent_id.is_none() {
                        return Err(AppError::invalid("parentDepartmentId", "the root department cannot be moved"));
                    }
                    move_node_in(txn, outbox, pool, &org.id, &node.id, &parent.id).await?;
                }
                update_node_in(txn, outbox, pool, &node.id, patch.clone()).await
            })
            .await
    }

    pub async fn delete_department(&self, pool: &PoolId, r: &DepartmentRef) -> AppResult<()> {
        let (org, node) = find_department(&self.db, pool, r).await?;
        self.delete_node(pool, &org.id, &node.id).await
    }

    /// Enable or disable a department, named by id.
    pub async fn set_department_status(&self, pool: &PoolId, id: &str, enabled: bool) -> AppResult<node::Model> {
        self.update_node(pool, id, DepartmentPatch { enabled: Some(enabled), ..Default::default() }.into()).await
    }

    /// The parent of a department (`None` for the root).
    pub async fn parent_department(&self, pool: &PoolId, r: &DepartmentRef) -> AppResult<Option<node::Model>> {
        let (_, node) = find_department(&self.db, pool, r).await?;
        match node.parent_id {
            Some(p) => Ok(Some(find_node(&self.db, pool, &p).await?)),
            None => Ok(None),
        }
    }

    /// The children of a department, in display order, filtered.
    pub async fn department_children(&self, pool: &PoolId, r: &DepartmentRef, filter: ChildFilter) -> AppResult<Vec<node::Model>> {
        let (_, node) = find_department(&self.db, pool, r).await?;
        let mut q = node::Entity::find().filter(node::Column::ParentId.eq(node.id.as_str()));
        if let Some(enabled) = filter.enabled {
            q = q.filter(node::Column::Enabled.eq(enabled));
        }
        if filter.only_virtual {
            q = q.filter(node::Column::IsVirtual.eq(true));
        } else if filter.exclude_virtual {
            q = q.filter(node::Column::IsVirtual.eq(false));
        }
        Ok(display_order(q).all(&self.db).await?)
    }

    /// Every department below one (not itself), breadth first; at most [`MAX_ALL_DEPARTMENTS`].
    pub async fn department_descendants(&self, pool: &PoolId, r: &DepartmentRef) -> AppResult<Vec<node::Model>> {
        let (_, node) = find_department(&self.db, pool, r).await?;
        let found = sql::all::<node::Model>(
            &self.db,
            "SELECT n.* FROM node_closure c JOIN node n ON n.id = c.descendant_id
             WHERE c.ancestor_id = $1 AND c.depth > 0
             ORDER BY n.depth, n.\"order\" DESC NULLS LAST, n.created_at, n.id LIMIT $2",
            vec![node.id.into(), (MAX_ALL_DEPARTMENTS as i64 + 1).into()],
        )
        .await?;
        if found.len() > MAX_ALL_DEPARTMENTS {
            return Err(AppError::invalid(
                "departmentId",
                format!("more than {MAX_ALL_DEPARTMENTS} departments below {}: list them level by level", r.department_id),
            ));
        }
        Ok(found)
    }

    /// Departments of an organization whose name or code contains `keywords` (at most `limit`).
    pub async fn search_departments(&self, pool: &PoolId, organization_code: &str, keywords: &str, limit: u64) -> AppResult<Vec<node::Model>> {
        let (org, _) = find_org_by_code(&self.db, pool, organization_code).await?;
        let q = node::Entity::find().filter(node::Column::OrgId.eq(org.id.as_str())).filter(contains(keywords)?);
        Ok(display_order(q.order_by_asc(node::Column::Depth)).limit(limit).all(&self.db).await?)
    }

    /// A page of an organization's departments, filtered and sorted.
    pub async fn department_page(&self, pool: &PoolId, organization_code: &str, search: &DepartmentSearch) -> AppResult<Paginated<node::Model>> {
        let (org, _) = find_org_by_code(&self.db, pool, organization_code).await?;
        let mut q = node::Entity::find().filter(node::Column::OrgId.eq(org.id.as_str()));
        for f in &search.filters {
            q = q.filter(match f {
                DepartmentFilter::NameEquals(v) => Condition::all().add(node::Column::Name.eq(v.as_str())),
                DepartmentFilter::NameIn(v) => Condition::all().add(node::Column::Name.is_in(v.clone())),
                DepartmentFilter::NameContains(v) => contains(v)?,
                DepartmentFilter::Between(field, from, to) => {
                    let mut c = Condition::all();
                    if let Some(from) = from {
                        c = c.add(field.column().gte(*from));
                    }
                    if let Some(to) = to {
                        c = c.add(field.column().lte(*to));
                    }
                    c
                }
            });
        }
        let total_count = q.clone().count(&self.db).await?;
        for (field, ascending) in &search.sort {
            q = if *ascending { q.order_by_asc(field.column()) } else { q.order_by_desc(field.column()) };
        }
        let list = q
            .order_by_asc(node::Column::CreatedAt)
            .order_by_asc(node::Column::Id)
            .offset(search.page.offset())
            .limit(search.page.limit)
            .all(&self.db)
            .await?;
        Ok(Paginated { total_count, list })
    }

    /// For each of `nodes`: its org's code, its parent's code, whether it has children, its
    /// leaders. Two statements for the batch.
    pub async fn department_facts(&self, nodes: &[node::Model]) -> AppResult<HashMap<String, DepartmentFacts>> {
        if nodes.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
        let rows = sql::all::<FactRow>(
            &self.db,
            &format!(
                "SELECT n.id, r.code AS organization_code, o.tenant_id, p.code AS parent_code,
                        EXISTS (SELECT 1 FROM node c WHERE c.parent_id = n.id) AS has_children
                 FROM node n JOIN org o ON o.id = n.org_id JOIN node r ON r.id = o.root_node_id
                 LEFT JOIN node p ON p.id = n.parent_id
                 WHERE n.id IN ({})",
                sql::placeholders(1, ids.len())
            ),
            sql::strings(&ids),
        )
        .await?;
        let mut leaders = leaders_of(&self.db, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let facts = DepartmentFacts {
                    organization_code: r.organization_code,
                    tenant_id: r.tenant_id,
                    parent_code: r.parent_code,
                    has_children: r.has_children,
                    leader_user_ids: leaders.remove(&r.id).unwrap_or_default(),
                };
                (r.id, facts)
            })
            .collect())
    }
}

/// Children order: larger `order` first, then oldest.
fn display_order(q: sea_orm::Select<node::Entity>) -> sea_orm::Select<node::Entity> {
    q.order_by_with_nulls(node::Column::Order, sea_orm::Order::Desc, sea_orm::sea_query::NullOrdering::Last)
        .order_by_asc(node::Column::CreatedAt)
        .order_by_asc(node::Column::Id)
}

/// Name or code contains `keywords`, ignoring case (1 to 64 characters).
fn contains(keywords: &str) -> AppResult<Condition> {
    let k = keywords.trim();
    if k.is_empty() || k.chars().count() > validate::MAX_TEXT {
        return Err(AppError::invalid("keywords", format!("keywords must have 1 to {} characters", validate::MAX_TEXT)));
    }
    Ok(Condition::any()
        .add(sql::contains_ignoring_case(node::Column::Name, k, false))
        .add(sql::contains_ignoring_case(node::Column::Code, k, false)))
}

/// The members of departments named the v3 way.
impl OrgService {
    /// Add users to a department; those already there stay as they are.
    pub async fn add_department_members(&self, pool: &PoolId, r: &DepartmentRef, user_ids: &[String]) -> AppResult<()> {
        let user_ids = crate::domain::users::batch_ids("userIds", user_ids)?;
        self.writer
            .write(pool, async |txn, outbox| {
                let (_, node) = find_department(txn, pool, r).await?;
                super::add_members_in(txn, outbox, pool, &node.id, &user_ids, None).await.map(|_| ())
            })
            .await
    }

    /// Remove users from a department; each must be a member, or nothing changes.
    pub async fn remove_department_members(&self, pool: &PoolId, r: &DepartmentRef, user_ids: &[String]) -> AppResult<()> {
        let user_ids = crate::domain::users::batch_ids("userIds", user_ids)?;
        self.writer
            .write(pool, async |txn, outbox| {
                let (_, node) = find_department(txn, pool, r).await?;
                super::remove_members_in(txn, outbox, pool, &node.id, &user_ids).await.map(|_| ())
            })
            .await
    }

    /// The ids of a department's direct members, oldest membership first.
    pub async fn department_member_ids(&self, pool: &PoolId, r: &DepartmentRef) -> AppResult<Vec<String>> {
        let (_, node) = find_department(&self.db, pool, r).await?;
        Ok(entity::membership::Entity::find()
            .select_only()
            .column(entity::membership::Column::UserId)
            .filter(entity::membership::Column::NodeId.eq(node.id))
            .order_by_asc(entity::membership::Column::JoinedAt)
            .order_by_asc(entity::membership::Column::UserId)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Members of a department (and its subtree when `include_children`) whose username, name,
    /// nickname, e-mail or phone contains `keywords`; newest users first.
    pub async fn search_department_members(
        &self,
        pool: &PoolId,
        r: &DepartmentRef,
        keywords: &str,
        page: Page,
        include_children: bool,
    ) -> AppResult<Paginated<entity::user::Model>> {
        let (_, node) = find_department(&self.db, pool, r).await?;
        let k = keywords.trim();
        if k.is_empty() || k.chars().count() > validate::MAX_TEXT {
            return Err(AppError::invalid("keywords", format!("keywords must have 1 to {} characters", validate::MAX_TEXT)));
        }
        let pattern = format!("%{}%", k.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let nodes = if include_children {
            "SELECT descendant_id FROM node_closure WHERE ancestor_id = $1"
        } else {
            "SELECT $1"
        };
        let matches = ["username", "name", "nickname", "email", "phone"]
            .iter()
            .map(|c| format!("LOWER(COALESCE(u.{c}, '')) LIKE $2 ESCAPE '\\'"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let from = format!(
            "FROM users u WHERE u.id IN (SELECT m.user_id FROM membership m WHERE m.node_id IN ({nodes})) AND ({matches})"
        );
        let total = sql::count(&self.db, &format!("SELECT COUNT(*) AS n {from}"), vec![node.id.clone().into(), pattern.clone().into()]).await?;
        let list = sql::all::<entity::user::Model>(
            &self.db,
            &format!("SELECT u.* {from} ORDER BY u.created_at DESC, u.id LIMIT $3 OFFSET $4"),
            vec![node.id.into(), pattern.into(), (page.limit as i64).into(), (page.offset() as i64).into()],
        )
        .await?;
        Ok(Paginated { total_count: total, list })
    }

    /// Whether the user is a member of the department (or of its subtree when `include_children`).
    pub async fn is_user_in_department(&self, pool: &PoolId, user_id: &str, r: &DepartmentRef, include_children: bool) -> AppResult<bool> {
        let (_, node) = find_department(&self.db, pool, r).await?;
        crate::domain::users::find_in_pool(&self.db, pool, user_id).await?.ok_or_else(|| AppError::not_found("user", user_id))?;
        let nodes = if include_children { "SELECT descendant_id FROM node_closure WHERE ancestor_id = $1" } else { "SELECT $1" };
        let found = sql::count(
            &self.db,
            &format!("SELECT COUNT(*) AS n FROM membership WHERE user_id = $2 AND node_id IN ({nodes})"),
            vec![node.id.into(), user_id.to_string().into()],
        )
        .await?;
        Ok(found > 0)
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;

    #[test]
    fn keyword_match_sql() {
        let q = node::Entity::find().filter(node::Column::OrgId.eq("o")).filter(contains("de_v").unwrap());
        assert!(q.build(DbBackend::Sqlite).to_string().contains(r"LIKE '%de\_v%' ESCAPE '\'"), "{}", q.build(DbBackend::Sqlite));
        assert!(q.build(DbBackend::Postgres).to_string().contains(r"ESCAPE E'\\'") || q.build(DbBackend::Postgres).to_string().contains(r"ESCAPE '\'"), "{}", q.build(DbBackend::Postgres));
    }
}
