//! Keys the server generates once and keeps in the database (`server_key` table).

use entity::server_key;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

use crate::error::{AppError, AppResult};

pub const JWT_SIGNING_KEY: &str = "jwt_signing_key";
pub const PASSWORD_RSA_KEY: &str = "password_rsa_private_key";
pub const SECRET_SEAL_KEY: &str = "pool_secret_seal_key";

/// The stored value of `name`; on first use, `generate` makes it. When two instances start at
/// once, the first insert wins and both read the winner.
pub async fn get_or_create<F>(
    db: &DatabaseConnection,
    name: &str,
    generate: impl FnOnce() -> F,
) -> AppResult<String>
where
    F: std::future::Future<Output = AppResult<String>>,
{
    if let Some(row) = server_key::Entity::find_by_id(name.to_string()).one(db).await? {
        return Ok(row.value);
    }
    let row = server_key::ActiveModel {
        name: Set(name.to_string()),
        value: Set(generate().await?),
        created_at: Set(chrono::Utc::now()),
    };
    server_key::Entity::insert(row)
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
    server_key::Entity::find_by_id(name.to_string())
        .one(db)
        .await?
        .map(|row| row.value)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("server key {name} vanished")))
}
