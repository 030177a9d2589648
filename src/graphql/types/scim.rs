//! SCIM tokens as the pool's administrator sees them.

use async_graphql::SimpleObject;

use crate::domain::{docs::iso, scim::tokens::NewScimToken};

/// A SCIM bearer token of the pool (its value is shown only when it is created).
#[derive(SimpleObject, Debug, Clone)]
pub struct ScimToken {
    pub id: String,
    pub name: String,
    pub created_at: String,
}

/// A token just created: `token` is its value, shown this once (only its SHA-256 is stored).
/// Identity providers send it as `Authorization: Bearer <token>` to `/scim/v2`.
#[derive(SimpleObject, Debug, Clone)]
pub struct CreatedScimToken {
    pub id: String,
    pub name: String,
    pub created_at: String,
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
