//! Organizations: create (with their root node), list, read, delete.

use entity::{node, org};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{DepartmentPatch, NodeInput, OrgService, ensure_org_code_free, find_org, org_nodes};

use crate::{
    domain::{
        docs::{NodeDoc, OrgDoc},
        events::{DomainEvent, Outbox},
    },
    domain::{PoolId, pagination::{Page, Paginated, Slice, TimestampOrder, Window}, validate},
    error::{AppError, AppResult},
    ids,
    storage::{keyset::{self, Position}, tree},
};

impl OrgService {
    /// A new organization whose root node has `root`'s fields.
    pub async fn create_org(&self, pool: &PoolId, root: DepartmentPatch, tenant_id: Option<&str>) -> AppResult<org::Model> {
        let root = NodeInput::from(root.check()?);
        let tenant_id = tenant_id.map(|t| validate::optional_text("tenantId", t, 64)).transpose()?.flatten();
        let org = OrgInput { tenant_id, ..Default::default() };
        self.writer.write(pool, async |txn, outbox| Ok(create_org_with_root_in(txn, outbox, pool, org.clone(), root.clone()).await?.0)).await
    }

    pub async fn org(&self, pool: &PoolId, id: &str) -> AppResult<org::Model> {
        find_org(&self.db, pool, id).await
    }

    /// All nodes of an org, breadth first.
    pub async fn org_nodes(&self, pool: &PoolId, id: &str) -> AppResult<Vec<node::Model>> {
        find_org(&self.db, pool, id).await?;
        org_nodes(&self.db, id).await
    }

    /// All nodes of an org already read (and so checked to be the caller's).
    pub async fn nodes_of(&self, org: &org::Model) -> AppResult<Vec<node::Model>> {
        org_nodes(&self.db, &org.id).await
    }

    /// The revision of an org's tree, read before its nodes: a listing made from nodes read
    /// after it is at least that new (see `storage::tree::revision`).
    pub async fn tree_revision(&self, org: &org::Model) -> AppResult<Option<i64>> {
        crate::storage::tree::revision(&self.db, &org.id).await
    }

    pub async fn orgs(&self, pool: &PoolId, page: Page, sort: TimestampOrder) -> AppResult<Paginated<org::Model>> {
        let base = org::Entity::find().filter(org::Column::UserPoolId.eq(pool.as_str()));
        let total_count = base.clone().count(&self.db).await?;
        let query = match sort {
            TimestampOrder::CreatedAtDesc => base.order_by_desc(org::Column::CreatedAt).order_by_desc(org::Column::Id),
            TimestampOrder::CreatedAtAsc => base.order_by_asc(org::Column::CreatedAt).order_by_asc(org::Column::Id),
            TimestampOrder::UpdatedAtDesc => base.order_by_desc(org::Column::UpdatedAt).order_by_desc(org::Column::Id),
            TimestampOrder::UpdatedAtAsc => base.order_by_asc(org::Column::UpdatedAt).order_by_asc(org::Column::Id),
        };
        let list = query.offset(page.offset()).limit(page.limit).all(&self.db).await?;
        Ok(Paginated { total_count, list })
    }

    /// A window of the pool's organizations in `sort`'s order, by keyset, with their number.
    pub async fn orgs_window(&self, pool: &PoolId, sort: TimestampOrder, window: Window<Position>) -> AppResult<(Slice<org::Model>, u64)> {
        let base = org::Entity::find().filter(org::Column::UserPoolId.eq(pool.as_str()));
        let total_count = base.clone().count(&self.db).await?;
        let (at, ascending) = match sort {
            TimestampOrder::CreatedAtDesc => (org::Column::CreatedAt, false),
            TimestampOrder::CreatedAtAsc => (org::Column::CreatedAt, true),
            TimestampOrder::UpdatedAtDesc => (org::Column::UpdatedAt, false),
            TimestampOrder::UpdatedAtAsc => (org::Column::UpdatedAt, true),
        };
        let slice = window
            .read(ascending, async |after, ascending, limit| keyset::rows_after(&self.db, base, (at, org::Column::Id), ascending, after.as_ref(), limit).await)
            .await?;
        Ok((slice, total_count))
    }

    /// How many nodes the orgs `org_ids` have in all.
    pub async fn node_total(&self, org_ids: &[String]) -> AppResult<u64> {
        tree::node_total(&self.db, org_ids).await
    }

    pub async fn count_orgs(&self, pool: &PoolId) -> AppResult<u64> {
        Ok(org::Entity::find().filter(org::Column::UserPoolId.eq(pool.as_str())).count(&self.db).await?)
    }

    /// The org whose root node has `code` (v3 clients name organizations by code).
    pub async fn org_by_code(&self, pool: &PoolId, code: &str) -> AppResult<org::Model> {
        let root = node::Entity::find()
            .filter(node::Column::UserPoolId.eq(pool.as_str()))
            .filter(node::Column::ParentId.is_null())
            .filter(node::Column::Code.eq(code))
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("organization with code", code))?;
        find_org(&self.db, pool, &root.org_id).await
    }

    /// Delete an organization, its whole tree and every membership in it (users stay).
    pub async fn delete_org(&self, pool: &PoolId, id: &str) -> AppResult<()> {
        self.writer.write(pool, async |txn, outbox| {
        let org = find_org(txn, pool, id).await?;
        let node_ids: Vec<String> = node::Entity::find()
            .select_only()
            .column(node::Column::Id)
            .filter(node::Column::OrgId.eq(id))
            .into_tuple()
            .all(txn)
            .await?;
        crate::domain::acl::forget_targets(txn, entity::acl_grant::TargetType::Org, &node_ids).await?;
        tree::delete_org_nodes(txn, id).await?;
        org::Entity::delete_by_id(id.to_string()).exec(txn).await?;
        outbox.record(DomainEvent::OrganizationDeleted { organization: OrgDoc::from(&org) });
        Ok(())
        }).await
    }

    /// Ids of the orgs of the pool (for the export of everything).
    pub async fn org_ids(&self, pool: &PoolId) -> AppResult<Vec<String>> {
        Ok(org::Entity::find()
            .select_only()
            .column(org::Column::Id)
            .filter(org::Column::UserPoolId.eq(pool.as_str()))
            .order_by_asc(org::Column::CreatedAt)
            .into_tuple()
            .all(&self.db)
            .await?)
    }
}

/// A new organization's own fields (its root node's are a [`NodeInput`], whose creation time
/// is the organization's too); an import gives the id it keeps.
#[derive(Debug, Clone, Default)]
pub struct OrgInput {
    pub id: Option<String>,
    pub tenant_id: Option<String>,
}

/// Create an org whose root node is `root`, inside the caller's transaction.
pub(crate) async fn create_org_with_root_in(
    txn: &DatabaseTransaction,
    outbox: &mut Outbox,
    pool: &PoolId,
    org: OrgInput,
    mut root: NodeInput,
) -> AppResult<(org::Model, node::Model)> {
    root.fields = root.fields.check()?;
    if let Some(Some(code)) = &root.fields.code {
        ensure_org_code_free(txn, pool, code, None).await?;
    }
    let now = chrono::Utc::now();
    let org_id = org.id.unwrap_or_else(ids::new_id);
    let root_id = root.id.take().unwrap_or_else(ids::new_id);
    let created_at = root.created_at.unwrap_or(now);
    let org = org::ActiveModel {
        id: Set(org_id.clone()),
        user_pool_id: Set(pool.as_str().to_string()),
        root_node_id: Set(root_id.clone()),
        tenant_id: Set(org.tenant_id),
        // An organization's own row never changes after it is made (its root does).
        created_at: Set(created_at),
        updated_at: Set(created_at),
    }
    .insert(txn)
    .await?;
    let root = super::nodes::insert_node(txn, pool, &org_id, None, &root_id, root, now).await?;
    outbox.record(DomainEvent::OrganizationCreated { organization: OrgDoc::from(&org), root_node: NodeDoc::from(&root) });
    Ok((org, root))
}
