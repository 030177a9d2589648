//! SCIM bearer tokens: long-lived, one pool each, created, listed and revoked by the pool's
//! administrator, and accepted only on `/scim/v2` (management JWTs are not, and these are not
//! JWTs, so nothing else accepts them).
//!
//! A token is 256 random bits (`scim_` + 64 hex digits), so it is stored as its SHA-256 digest:
//! Argon2's slowness protects low-entropy secrets (passwords) against guessing from a stolen hash,
//! while no one can guess a 256-bit value, and a fast digest lets every SCIM request be checked
//! with one indexed lookup instead of a 19 MiB, multi-millisecond hash.

use entity::scim_token;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use sha2::{Digest, Sha256};

use crate::{
    domain::{PoolId, validate, write::Writer},
    error::{AppError, AppResult},
    ids,
};

/// What every token starts with: it tells a SCIM token from a JWT at a glance (and in logs).
pub const PREFIX: &str = "scim_";
/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;
/// Tokens one pool may hold at once (an administrator rotates them; none should pile up).
pub const MAX_TOKENS_PER_POOL: u64 = 100;

/// A token just created: the only time its value is known.
#[derive(Debug, Clone)]
pub struct NewScimToken {
    pub token: scim_token::Model,
    pub secret: String,
}

#[derive(Clone)]
pub struct ScimTokenService {
    db: DatabaseConnection,
    writer: Writer,
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl ScimTokenService {
    pub fn new(writer: Writer) -> Self {
        Self { db: writer.db().clone(), writer }
    }

    pub async fn create(&self, pool: &PoolId, name: &str) -> AppResult<NewScimToken> {
        let name = validate::required_text("name", name, 128)?;
        let secret = format!("{PREFIX}{}", ids::random_hex(TOKEN_BYTES));
        let row = scim_token::ActiveModel {
            id: Set(ids::new_id()),
            user_pool_id: Set(pool.as_str().to_string()),
            name: Set(name),
            token_hash: Set(digest(&secret)),
            created_at: Set(chrono::Utc::now()),
        };
        let token = self
            .writer
            .write_plain(crate::domain::Actor::SYSTEM, async |txn| {
                let held = scim_token::Entity::find().filter(scim_token::Column::UserPoolId.eq(pool.as_str())).count(txn).await?;
                if held >= MAX_TOKENS_PER_POOL {
                    return Err(AppError::invalid("name", format!("a user pool holds at most {MAX_TOKENS_PER_POOL} SCIM tokens; revoke one first")));
                }
                Ok(row.insert(txn).await?)
            })
            .await?;
        Ok(NewScimToken { token, secret })
    }

    /// The pool's tokens, oldest first (never their values).
    pub async fn list(&self, pool: &PoolId) -> AppResult<Vec<scim_token::Model>> {
        Ok(scim_token::Entity::find()
            .filter(scim_token::Column::UserPoolId.eq(pool.as_str()))
            .order_by_asc(scim_token::Column::CreatedAt)
            .order_by_asc(scim_token::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Revoke (delete) a token of the pool: the next request that sends it is refused.
    pub async fn revoke(&self, pool: &PoolId, id: &str) -> AppResult<()> {
        let deleted = self
            .writer
            .write_plain(crate::domain::Actor::SYSTEM, async |txn| {
                Ok(scim_token::Entity::delete_many()
                    .filter(scim_token::Column::UserPoolId.eq(pool.as_str()))
                    .filter(scim_token::Column::Id.eq(id))
                    .exec(txn)
                    .await?
                    .rows_affected)
            })
            .await?;
        if deleted == 0 {
            return Err(AppError::not_found("SCIM token", id));
        }
        Ok(())
    }

    /// The pool a SCIM bearer token belongs to.
    pub async fn authenticate(&self, secret: &str) -> AppResult<PoolId> {
        // Anything that cannot be one of our tokens is refused without a query.
        let well_formed = secret.len() == PREFIX.len() + 2 * TOKEN_BYTES
            && secret.starts_with(PREFIX)
            && secret[PREFIX.len()..].bytes().all(|b| b.is_ascii_hexdigit());
        if !well_formed {
            return Err(AppError::InvalidToken("not a SCIM token".into()));
        }
        let found = scim_token::Entity::find()
            .filter(scim_token::Column::TokenHash.eq(digest(secret)))
            .one(&self.db)
            .await?;
        match found {
            Some(t) => Ok(PoolId::trusted(t.user_pool_id).acting_as(super::super::Actor::scim(&t.name))),
            None => Err(AppError::InvalidToken("unknown or revoked SCIM token".into())),
        }
    }
}
