use sea_orm::entity::prelude::*;

/// A distinct user of a node's subtree; `refs` counts their memberships in that subtree.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subtree_member")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ancestor_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    pub refs: i32,
    /// When the user entered the subtree (their earliest membership still in it).
    pub joined_at: DateTimeUtc,
    pub user_created_at: DateTimeUtc,
    pub user_updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
