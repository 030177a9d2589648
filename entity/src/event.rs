use sea_orm::entity::prelude::*;

/// One event of the outbox. `id` is a UUIDv7 in hex; `seq` numbers events in commit order (the
/// cursor readers page by: a later-committing event never gets a smaller one).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub seq: i64,
    pub user_pool_id: String,
    pub event_name: String,
    /// The organization the event is about, when there is one (for subscription filters).
    pub org_id: Option<String>,
    pub data: Json,
    pub created_at: DateTimeUtc,
    /// The one user, department or organization it is about (`user:<id>`, `node:<id>`,
    /// `org:<id>`), which orders its deliveries; null when it is about several or none.
    pub entity: Option<String>,
    /// The departments it concerns and their ancestors at commit time (`/id/id/.../`): it is
    /// inside the subtree of each department named. Null for events about no department.
    pub scope: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
