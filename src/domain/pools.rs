//! User pools (tenants): creation, the first pool on an empty database, secret checks.

use entity::user_pool;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryOrder,
};

use super::{PoolId, validate, write::Writer};
use std::{net::IpAddr, sync::Arc};

use crate::{
    error::{AppError, AppResult},
    ids,
    security::{secret_hash::Hasher, throttle::CredentialThrottle},
};

/// A pool just created, with its secret in clear: the only time the secret is known.
#[derive(Debug, Clone)]
pub struct NewPool {
    pub id: String,
    pub name: String,
    pub secret: String,
}

/// What happened to the configured first pool at start.
#[derive(Debug, Clone)]
pub enum Bootstrap {
    Created(NewPool),
    SecretSet { id: String },
    Unchanged,
}

#[derive(Clone)]
pub struct PoolService {
    db: DatabaseConnection,
    writer: Writer,
    hasher: Hasher,
    throttle: Arc<CredentialThrottle>,
}

impl PoolService {
    pub fn new(writer: Writer, hasher: Hasher, throttle: Arc<CredentialThrottle>) -> Self {
        Self { db: writer.db().clone(), writer, hasher, throttle }
    }

    /// Create a pool; `id` and `secret` are random unless given.
    pub async fn create(
        &self,
        name: &str,
        id: Option<String>,
        secret: Option<String>,
    ) -> AppResult<NewPool> {
        let id = id.unwrap_or_else(ids::new_id);
        validate::identifier("userPoolId", &id)?;
        let secret = secret.unwrap_or_else(ids::new_secret);
        validate::pool_secret(&secret)?;
        let name = validate::required_text("name", name, 128)?;
        if user_pool::Entity::find_by_id(id.clone()).one(&self.db).await?.is_some() {
            return Err(AppError::Conflict {
                field: Some("userPoolId"),
                message: format!("user pool {id} already exists"),
            });
        }
        let now = chrono::Utc::now();
        let row = user_pool::ActiveModel {
            id: Set(id.clone()),
            name: Set(name.clone()),
            secret_hash: Set(self.hasher.hash(secret.clone()).await?),
            created_at: Set(now),
            updated_at: Set(now),
        };
        self.writer.write_plain(async |txn| Ok(row.insert(txn).await?)).await?;
        Ok(NewPool { id, name, secret })
    }

    /// Make sure the configured first pool exists: on an empty database (or when an id is
    /// configured that does not exist yet) create it; when a secret is configured, make it the
    /// pool's secret.
    pub async fn bootstrap(
        &self,
        name: &str,
        id: Option<String>,
        secret: Option<String>,
    ) -> AppResult<Bootstrap> {
        let existing = match &id {
            Some(id) => user_pool::Entity::find_by_id(id.clone()).one(&self.db).await?,
            None => None,
        };
        match existing {
            Some(pool) => match secret {
                Some(secret) if !self.hasher.verify(secret.clone(), Some(pool.secret_hash.clone())).await? => {
                    validate::pool_secret(&secret)?;
                    let mut active: user_pool::ActiveModel = pool.into();
                    active.secret_hash = Set(self.hasher.hash(secret).await?);
                    active.updated_at = Set(chrono::Utc::now());
                    let pool = self.writer.write_plain(async |txn| Ok(active.update(txn).await?)).await?;
                    Ok(Bootstrap::SecretSet { id: pool.id })
                }
                _ => Ok(Bootstrap::Unchanged),
            },
            None if id.is_some() || self.count().await? == 0 => {
                Ok(Bootstrap::Created(self.create(name, id, secret).await?))
            }
            None => Ok(Bootstrap::Unchanged),
        }
    }

    pub async fn count(&self) -> AppResult<u64> {
        Ok(user_pool::Entity::find().count(&self.db).await?)
    }

    pub async fn list(&self) -> AppResult<Vec<user_pool::Model>> {
        Ok(user_pool::Entity::find()
            .order_by_asc(user_pool::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// Replace a pool's secret with a new random one, returned in clear.
    pub async fn reset_secret(&self, id: &str) -> AppResult<String> {
        let pool = user_pool::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("user pool", id))?;
        let secret = ids::new_secret();
        let mut active: user_pool::ActiveModel = pool.into();
        active.secret_hash = Set(self.hasher.hash(secret.clone()).await?);
        active.updated_at = Set(chrono::Utc::now());
        self.writer.write_plain(async |txn| Ok(active.update(txn).await?)).await?;
        Ok(secret)
    }

    /// The pool whose id and secret these are, checked for a client at `address`. An unknown id
    /// and a wrong secret give the same error after the same work, so the answer does not reveal
    /// which pools exist. Failed checks are rate-limited per address and per pool.
    pub async fn authenticate(&self, id: &str, secret: &str, address: Option<IpAddr>) -> AppResult<PoolId> {
        let pool = match id.len() {
            1..=128 => user_pool::Entity::find_by_id(id.to_string()).one(&self.db).await?,
            _ => None,
        };
        let known = pool.as_ref().map(|p| p.id.as_str());
        self.throttle.before_check(address, known)?;
        let hash = pool.as_ref().map(|p| p.secret_hash.clone());
        if self.hasher.verify(secret.to_string(), hash).await? {
            Ok(PoolId::trusted(id))
        } else {
            self.throttle.after_failure(address, known);
            Err(AppError::InvalidCredentials)
        }
    }

    /// An existing pool named by an operator (the command line).
    pub async fn named(&self, id: &str) -> AppResult<PoolId> {
        match user_pool::Entity::find_by_id(id.to_string()).one(&self.db).await? {
            Some(_) => Ok(PoolId::trusted(id)),
            None => Err(AppError::not_found("user pool", id)),
        }
    }

    /// The pool of a verified token, if it still exists.
    pub async fn existing(&self, id: &str) -> AppResult<PoolId> {
        match user_pool::Entity::find_by_id(id.to_string()).one(&self.db).await? {
            Some(_) => Ok(PoolId::trusted(id)),
            None => Err(AppError::InvalidToken("the token's user pool no longer exists".into())),
        }
    }
}
