use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Account status, as Authing's `UserStatus` (and the v3 `UserDto`) name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum UserStatus {
    #[sea_orm(string_value = "Activated")]
    Activated,
    #[sea_orm(string_value = "Suspended")]
    Suspended,
    #[sea_orm(string_value = "Deactivated")]
    Deactivated,
    #[sea_orm(string_value = "Resigned")]
    Resigned,
    #[sea_orm(string_value = "Archived")]
    Archived,
}

/// `M`, `F` or `U` (unknown), as Authing writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Gender {
    #[sea_orm(string_value = "M")]
    M,
    #[sea_orm(string_value = "F")]
    F,
    #[sea_orm(string_value = "U")]
    U,
}

/// A user of a pool. Field names follow Authing's `User` type and the v3 `UserDto`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_pool_id: String,
    pub username: Option<String>,
    /// Stored lower-cased: e-mail addresses compare case-insensitively.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_country_code: Option<String>,
    pub email_verified: bool,
    pub phone_verified: bool,
    /// Argon2 PHC string (or an imported hash kept verbatim); never returned by the API.
    pub password_hash: Option<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub preferred_username: Option<String>,
    pub profile: Option<String>,
    pub website: Option<String>,
    pub photo: Option<String>,
    pub gender: Gender,
    pub birthdate: Option<String>,
    pub zoneinfo: Option<String>,
    pub locale: Option<String>,
    pub address: Option<String>,
    pub formatted: Option<String>,
    pub street_address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub country: Option<String>,
    pub company: Option<String>,
    pub browser: Option<String>,
    pub device: Option<String>,
    pub unionid: Option<String>,
    pub openid: Option<String>,
    pub oauth: Option<String>,
    /// JSON array of strings.
    pub register_source: Json,
    pub logins_count: i32,
    pub last_login: Option<DateTimeUtc>,
    pub last_ip: Option<String>,
    pub signed_up: Option<DateTimeUtc>,
    pub blocked: bool,
    pub status: UserStatus,
    pub external_id: Option<String>,
    /// JSON object of the user's extended fields.
    pub custom_data: Json,
    /// JSON array of external identities (provider, userIdInIdp, ...), without their tokens.
    pub identities: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user_pool::Entity",
        from = "Column::UserPoolId",
        to = "super::user_pool::Column::Id",
        on_delete = "Cascade"
    )]
    UserPool,
}

impl Related<super::user_pool::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserPool.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
