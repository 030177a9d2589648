use sea_orm::entity::prelude::*;

/// (ancestor, descendant) for every pair in a tree, each node being its own ancestor at depth 0.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "node_closure")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ancestor_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub descendant_id: String,
    pub depth: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
