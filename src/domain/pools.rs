//! User pools (tenants): creation, the first pool on an empty database, secret checks.

use entity::user_pool;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use super::{PoolId, validate, write::Writer};
use std::{net::IpAddr, sync::Arc};

use crate::{
    error::{AppError, AppResult},
    ids,
    security::{
        secret_hash::Hasher,
        secret_seal::{SecretSeal, hmac_sha1_matches},
        throttle::CredentialThrottle,
    },
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
    seal: SecretSeal,
}

impl PoolService {
    pub fn new(writer: Writer, hasher: Hasher, throttle: Arc<CredentialThrottle>, seal: SecretSeal) -> Self {
        Self { db: writer.db().clone(), writer, hasher, throttle, seal }
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
            secret_sealed: Set(Some(self.seal.seal(&secret)?)),
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
                    let id = pool.id.clone();
                    self.set_secret(pool, &secret).await?;
                    Ok(Bootstrap::SecretSet { id })
                }
                Some(secret) if pool.secret_sealed.is_none() => {
                    self.keep_sealed(&pool.id, &secret).await?;
                    Ok(Bootstrap::Unchanged)
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
        self.set_secret(pool, &secret).await?;
        Ok(secret)
    }

    async fn set_secret(&self, pool: user_pool::Model, secret: &str) -> AppResult<()> {
        let mut active: user_pool::ActiveModel = pool.into();
        active.secret_hash = Set(self.hasher.hash(secret.to_string()).await?);
        active.secret_sealed = Set(Some(self.seal.seal(secret)?));
        active.updated_at = Set(chrono::Utc::now());
        self.writer.write_plain(async |txn| Ok(active.update(txn).await?)).await?;
        Ok(())
    }

    /// Seal the (just verified) secret of a pool created before secrets were sealed.
    async fn keep_sealed(&self, id: &str, secret: &str) -> AppResult<()> {
        let sealed = self.seal.seal(secret)?;
        self.writer
            .write_plain(async |txn| {
                user_pool::Entity::update_many()
                    .col_expr(user_pool::Column::SecretSealed, sea_orm::sea_query::Expr::value(sealed.clone()))
                    .filter(user_pool::Column::Id.eq(id))
                    .filter(user_pool::Column::SecretSealed.is_null())
                    .exec(txn)
                    .await?;
                Ok(())
            })
            .await
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
            if pool.as_ref().is_some_and(|p| p.secret_sealed.is_none()) {
                self.keep_sealed(id, secret).await?;
            }
            Ok(PoolId::trusted(id))
        } else {
            self.throttle.after_failure(address, known);
            Err(AppError::InvalidCredentials)
        }
    }

    /// The pool whose id is `id` when `signature` is the base64 HMAC-SHA1 under its secret of one
    /// of `messages` (the forms a request may have been signed in; how the v3 SDKs sign requests
    /// and their event socket). Throttled like [`Self::authenticate`]; an unknown pool and a wrong
    /// signature give the same error.
    pub async fn authenticate_signed(&self, id: &str, messages: &[String], signature: &str, address: Option<IpAddr>) -> AppResult<PoolId> {
        let pool = match id.len() {
            1..=128 => user_pool::Entity::find_by_id(id.to_string()).one(&self.db).await?,
            _ => None,
        };
        let known = pool.as_ref().map(|p| p.id.as_str());
        self.throttle.before_check(address, known)?;
        let secret = match pool.as_ref().map(|p| p.secret_sealed.as_deref()) {
            Some(Some(sealed)) => Some(self.seal.open(sealed)?),
            Some(None) => {
                return Err(AppError::InvalidToken(format!(
                    "user pool {id} has no secret usable for signatures yet (it was set before orgraph kept one): \
                     use it once with get-management-token, or reset it"
                )));
            }
            None => None,
        };
        match secret {
            Some(secret) if messages.iter().any(|m| hmac_sha1_matches(&secret, m, signature)) => Ok(PoolId::trusted(id)),
            _ => {
                self.throttle.after_failure(address, known);
                Err(AppError::InvalidCredentials)
            }
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
