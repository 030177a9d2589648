//! Keys the server generates once and keeps in the database (`server_key` table), and the
//! password key, loaded from there on first use.

use entity::server_key;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

use crate::{
    error::{AppError, AppResult},
    security::password_box::PasswordBox,
};

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

/// The server's password key, loaded (or generated, once, for all instances) on first use: RSA
/// key generation takes a while, and most runs never need it.
pub struct PasswordKeyring {
    db: sea_orm::DatabaseConnection,
    cell: tokio::sync::OnceCell<std::sync::Arc<PasswordBox>>,
}

impl PasswordKeyring {
    pub fn new(db: sea_orm::DatabaseConnection) -> Self {
        Self { db, cell: tokio::sync::OnceCell::new() }
    }

    pub async fn get(&self) -> AppResult<std::sync::Arc<PasswordBox>> {
        self.cell
            .get_or_try_init(|| async {
                let pem = get_or_create(&self.db, PASSWORD_RSA_KEY, || async {
                    tokio::task::spawn_blocking(PasswordBox::generate_pem).await.map_err(AppError::internal)?
                })
                .await?;
                Ok(std::sync::Arc::new(PasswordBox::from_pem(&pem)?))
            })
            .await
            .cloned()
    }
}
