use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What kind of thing a resource is, as Authing names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceType {
    #[sea_orm(string_value = "DATA")]
    Data,
    #[sea_orm(string_value = "API")]
    Api,
    #[sea_orm(string_value = "MENU")]
    Menu,
    #[sea_orm(string_value = "UI")]
    Ui,
    #[sea_orm(string_value = "BUTTON")]
    Button,
}

/// A resource of a namespace, with the actions that may be granted on it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "acl_resource")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_pool_id: String,
    pub namespace_id: i64,
    pub code: String,
    pub resource_type: ResourceType,
    pub description: Option<String>,
    /// JSON array of `{name, description}`.
    pub actions: Json,
    pub api_identifier: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
