use sea_orm::entity::prelude::*;

/// A tenant. Every other row carries its `user_pool_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_pool")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// Argon2 PHC string of the pool secret; the secret itself is never stored.
    pub secret_hash: String,
    /// The secret sealed with the server key (AES-256-GCM): v3 request signatures are HMACs of it.
    pub secret_sealed: Option<String>,
    /// The generation of the pool's access tokens: every change of the secret adds one, and a
    /// token issued at an older epoch is refused.
    pub token_epoch: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::user::Entity")]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
