use sea_orm::entity::prelude::*;

/// A batch of tree changes to apply at `at`. `changes` is the ordered batch as validated (ids of
/// the departments it adds already given); `created_nodes` is `[{code, id}]` of those.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "scheduled_change")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_pool_id: String,
    pub at: DateTimeUtc,
    /// `PENDING`, `APPLIED`, `FAILED` or `CANCELLED`.
    pub status: String,
    pub changes: Json,
    pub created_nodes: Json,
    /// Why it failed (FAILED only).
    pub error: Option<String>,
    /// The actor who scheduled it; its changes are made in that actor's name.
    pub created_by: String,
    pub created_at: DateTimeUtc,
    /// When it was applied, failed or was cancelled.
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
