use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Who a grant is for. Authing also has roles, groups and AK/SK pairs; orgraph has none of those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetType {
    #[sea_orm(string_value = "USER")]
    User,
    /// A node of an org (and, through it, the members of its subtree).
    #[sea_orm(string_value = "ORG")]
    Org,
}

/// Actions of a resource granted to a user or a node.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "acl_grant")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_pool_id: String,
    pub namespace_id: i64,
    /// As granted: `code`, `code:instance`, `code:*` or `*`.
    pub resource: String,
    /// The resource code `resource` belongs to.
    pub resource_code: String,
    pub target_type: TargetType,
    pub target_id: String,
    /// JSON array of action names (`books:read`, `books:*`, `*`).
    pub actions: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
