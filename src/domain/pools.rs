//! User pools (tenants): creation, the first pool on an empty database, secret checks, and the
//! management tokens a secret gives (login, refresh, and their revocation when the secret changes).

use entity::user_pool;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::{Expr, ExprTrait},
};

use super::{PoolId, validate, write::Writer};
use std::{collections::HashMap, net::IpAddr, sync::Arc};

use crate::{
    error::{AppError, AppResult},
    ids,
    security::{
        secret_hash::Hasher,
        secret_seal::{SecretSeal, hmac_sha1_matches},
        throttle::CredentialThrottle,
        tokens::{self, Claims, Credential, EpochSource, IssuedToken, TokenService},
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

/// The pools' token epochs as the database holds them: what the token service checks tokens
/// against.
pub struct StoredEpochs {
    db: DatabaseConnection,
}

impl StoredEpochs {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl EpochSource for StoredEpochs {
    async fn epochs(&self, pools: &[String]) -> AppResult<HashMap<String, i64>> {
        // The token service asks for at most EPOCHS_CAPACITY + 1 pools: one statement.
        let rows: Vec<(String, i64)> = user_pool::Entity::find()
            .select_only()
            .column(user_pool::Column::Id)
            .column(user_pool::Column::TokenEpoch)
            .filter(user_pool::Column::Id.is_in(pools.iter().cloned()))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }
}

/// A pool's token epoch as stored; `None` when the pool does not exist.
async fn token_epoch(db: &impl sea_orm::ConnectionTrait, pool: &str) -> AppResult<Option<i64>> {
    Ok(user_pool::Entity::find_by_id(pool.to_string())
        .select_only()
        .column(user_pool::Column::TokenEpoch)
        .into_tuple()
        .one(db)
        .await?)
}

#[derive(Clone)]
pub struct PoolService {
    db: DatabaseConnection,
    writer: Writer,
    hasher: Hasher,
    throttle: Arc<CredentialThrottle>,
    seal: SecretSeal,
    tokens: Arc<TokenService>,
}

impl PoolService {
    pub fn new(writer: Writer, hasher: Hasher, throttle: Arc<CredentialThrottle>, seal: SecretSeal, tokens: Arc<TokenService>) -> Self {
        Self { db: writer.db().clone(), writer, hasher, throttle, seal, tokens }
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
            token_epoch: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        };
        self.writer.write_plain(crate::domain::Actor::SYSTEM, async |txn| Ok(row.insert(txn).await?)).await?;
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

    /// Replace a pool's secret with a new random one, returned in clear. The pool's tokens issued
    /// before are refused from then on (see `security::tokens` for how soon in other processes).
    pub async fn reset_secret(&self, id: &str) -> AppResult<String> {
        let pool = user_pool::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found("user pool", id))?;
        let secret = ids::new_secret();
        self.set_secret(pool, &secret).await?;
        Ok(secret)
    }

    /// Make `secret` the pool's secret and raise its token epoch, which revokes its tokens.
    async fn set_secret(&self, pool: user_pool::Model, secret: &str) -> AppResult<()> {
        let hash = self.hasher.hash(secret.to_string()).await?;
        let sealed = self.seal.seal(secret)?;
        let epoch = self
            .writer
            .write_plain(crate::domain::Actor::SYSTEM, async |txn| {
                // Raised in the statement: two changes at once raise it twice.
                user_pool::Entity::update_many()
                    .col_expr(user_pool::Column::SecretHash, Expr::value(hash.clone()))
                    .col_expr(user_pool::Column::SecretSealed, Expr::value(sealed.clone()))
                    .col_expr(user_pool::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
                    .col_expr(user_pool::Column::TokenEpoch, Expr::col(user_pool::Column::TokenEpoch).add(1))
                    .filter(user_pool::Column::Id.eq(pool.id.as_str()))
                    .exec(txn)
                    .await?;
                token_epoch(txn, &pool.id).await?.ok_or_else(|| AppError::not_found("user pool", pool.id.clone()))
            })
            .await?;
        self.tokens.note_epoch(&pool.id, epoch);
        Ok(())
    }

    /// The pool of an id a caller gave (an over-long one is no pool's, and is not looked up).
    async fn given(&self, id: &str) -> AppResult<Option<user_pool::Model>> {
        Ok(match id.len() {
            1..=128 => user_pool::Entity::find_by_id(id.to_string()).one(&self.db).await?,
            _ => None,
        })
    }

    /// Seal the (just verified) secret of a pool created before secrets were sealed.
    async fn keep_sealed(&self, id: &str, secret: &str) -> AppResult<()> {
        let sealed = self.seal.seal(secret)?;
        self.writer
            .write_plain(crate::domain::Actor::SYSTEM, async |txn| {
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
        self.checked(id, secret, address).await.map(|pool| PoolId::trusted(pool.id.clone()).acting_as(&pool.id))
    }

    /// A management token of the pool whose id and secret these are: a new session (see
    /// [`Self::authenticate`]).
    pub async fn login(&self, id: &str, secret: &str, address: Option<IpAddr>) -> AppResult<IssuedToken> {
        let pool = self.checked(id, secret, address).await?;
        self.tokens.issue(&pool.id, pool.token_epoch)
    }

    /// A new token of the session of a verified token, when its pool still exists and its secret
    /// has not changed since (read now, not as remembered by the token service).
    pub async fn refresh(&self, claims: &Claims) -> AppResult<IssuedToken> {
        match token_epoch(&self.db, &claims.scoped_userpool_id).await? {
            None => Err(tokens::pool_gone()),
            Some(epoch) if epoch > claims.token_epoch => {
                self.tokens.note_epoch(&claims.scoped_userpool_id, epoch);
                Err(tokens::revoked())
            }
            Some(_) => self.tokens.refresh(claims),
        }
    }

    async fn checked(&self, id: &str, secret: &str, address: Option<IpAddr>) -> AppResult<user_pool::Model> {
        let pool = self.given(id).await?;
        let known = pool.as_ref().map(|p| p.id.clone());
        self.throttle.before_check(address, known.as_deref())?;
        // Hashed even for an unknown pool: the same work as a wrong secret.
        let matches = self.hasher.verify(secret.to_string(), pool.as_ref().map(|p| p.secret_hash.clone())).await?;
        match pool {
            Some(pool) if matches => {
                if pool.secret_sealed.is_none() {
                    self.keep_sealed(id, secret).await?;
                }
                Ok(pool)
            }
            _ => {
                self.throttle.after_failure(address, known.as_deref());
                Err(AppError::InvalidCredentials)
            }
        }
    }

    /// The pool whose id is `id` when `signature` is the base64 HMAC-SHA1 under its secret of one
    /// of `messages` (the forms a request may have been signed in; how the v3 SDKs sign requests
    /// and their event socket). Only failures are throttled (a signature check is cheap), but once
    /// they have spent the budget of the address or the pool, every signed attempt is refused
    /// before it is checked; an unknown pool and a wrong signature give the same error.
    pub async fn authenticate_signed(&self, id: &str, messages: &[String], signature: &str, address: Option<IpAddr>) -> AppResult<PoolId> {
        self.signed_credential(id, messages, signature, address).await.map(|credential| PoolId::trusted(credential.pool).acting_as(id))
    }

    /// [`Self::authenticate_signed`] for a connection that stays open: the pool with the token
    /// epoch of the secret the signature matched, which `TokenService::revocation` watches.
    pub async fn signed_credential(&self, id: &str, messages: &[String], signature: &str, address: Option<IpAddr>) -> AppResult<Credential> {
        let pool = self.given(id).await?;
        let known = pool.as_ref().map(|p| p.id.as_str());
        self.throttle.before_signature_check(address, known)?;
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
            Some(secret) if messages.iter().any(|m| hmac_sha1_matches(&secret, m, signature)) => {
                // The secret and its epoch come from the same row read.
                let epoch = pool.as_ref().map_or(0, |p| p.token_epoch);
                Ok(Credential { pool: id.to_string(), epoch })
            }
            _ => {
                self.throttle.after_signature_failure(address, known);
                Err(AppError::InvalidCredentials)
            }
        }
    }

    /// An existing pool named by an operator (the command line).
    pub async fn named(&self, id: &str) -> AppResult<PoolId> {
        match user_pool::Entity::find_by_id(id.to_string()).one(&self.db).await? {
            Some(_) => Ok(PoolId::trusted(id).acting_as(super::Actor::CLI)),
            None => Err(AppError::not_found("user pool", id)),
        }
    }
}
