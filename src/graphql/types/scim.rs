//! SCIM tokens as the pool's administrator sees them.

use async_graphql::SimpleObject;

use crate::domain::{docs::iso, scim::tokens::NewScimToken};

/// A SCIM bearer token of the pool (its value is shown only when it is created).
#[derive(SimpleObject, Debug, Clone)]
pub struct ScimToken {
    /// The token's id, as `revokeScimToken` takes it.
    pub id: String,
    /// The name given to the token when it was created.
    pub name: String,
    /// When the token was created, RFC 3339 in UTC with milliseconds.
    pub created_at: String,
}

/// A token just created: `token` is its value, shown this once (only its SHA-256 is stored).
/// Identity providers send it as `Authorization: Bearer <token>` to `/scim/v2`.
#[derive(SimpleObject, Debug, Clone)]
pub struct CreatedScimToken {
    /// The token's id, as `revokeScimToken` takes it.
    pub id: String,
    /// The name given to the token.
    pub name: String,
    /// When the token was created, RFC 3339 in UTC with milliseconds.
    pub created_at: String,
    /// The token's value: `scim_` followed by 64 hex digits. It cannot be read again later.
    pub token: String,
}

impl From<entity::scim_token::Model> for ScimToken {
    fn from(t: entity::scim_token::Model) -> Self {
        ScimToken { id: t.id, name: t.name, created_at: iso(t.created_at) }
    }
}

impl From<NewScimToken> for CreatedScimToken {
    fn from(t: NewScimToken) -> Self {
        CreatedScimToken { id: t.token.id, name: t.token.name, created_at: iso(t.token.created_at), token: t.secret }
    }
}
