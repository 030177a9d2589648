use sea_orm::entity::prelude::*;

/// One HTTP request of a delivery and what came back (bodies truncated).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery_attempt")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub delivery_id: String,
    pub attempted_at: DateTimeUtc,
    /// The request headers, the secret ones masked.
    pub request_headers: Json,
    pub request_body: String,
    pub response_status: Option<i32>,
    pub response_headers: Json,
    pub response_body: Option<String>,
    pub duration_ms: i64,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
