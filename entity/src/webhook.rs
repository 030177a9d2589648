use sea_orm::entity::prelude::*;

/// How a delivery's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ContentType {
    /// `application/json`: `{"eventName", "data"}`.
    #[sea_orm(string_value = "json")]
    Json,
    /// `application/x-www-form-urlencoded`: `eventName` and `data` (JSON text).
    #[sea_orm(string_value = "form")]
    Form,
}

/// A URL that receives the pool's events it subscribes to.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_pool_id: String,
    pub name: String,
    pub url: String,
    /// Sent as `x-authing-webhook-secret` / `X-GenAuth-Token` and the HMAC key of
    /// `webhook-signature`, so it is kept as given; never logged.
    pub secret: String,
    pub content_type: ContentType,
    /// JSON array of event names.
    pub events: Json,
    pub enabled: bool,
    pub consecutive_failures: i32,
    /// When set, a department: only the events inside its subtree are delivered.
    pub subtree_of: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
