use sea_orm::entity::prelude::*;

/// A namespace (Authing's "permission group") of resources in a pool. `id` is numeric, as the SDKs
/// read it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resource_namespace")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_pool_id: String,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
