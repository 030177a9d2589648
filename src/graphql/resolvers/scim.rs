//! SCIM tokens: the long-lived bearer tokens identity providers use on `/scim/v2`.

use async_graphql::{Context, Object, Result};

use crate::graphql::{
    context::ContextExt,
    types::{
        common::CommonMessage,
        scim::{CreatedScimToken, ScimToken},
    },
};

#[derive(Default)]
pub struct ScimQuery;

#[Object]
impl ScimQuery {
    /// The pool's SCIM tokens, oldest first (never their values).
    async fn scim_tokens(&self, ctx: &Context<'_>) -> Result<Vec<ScimToken>> {
        let pool = ctx.pool()?;
        Ok(ctx.state().scim_tokens.list(&pool).await?.into_iter().map(ScimToken::from).collect())
    }
}

#[derive(Default)]
pub struct ScimMutation;

#[Object]
impl ScimMutation {
    /// A new SCIM token for the pool, named `name` (e.g. "Okta"); its value is in the answer
    /// and nowhere else. A pool holds at most 100 tokens.
    async fn create_scim_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A name for the token, e.g. the identity provider's: 1 to 128 characters, trimmed.")] name: String,
    ) -> Result<CreatedScimToken> {
        let pool = ctx.pool()?;
        Ok(ctx.state().scim_tokens.create(&pool, &name).await?.into())
    }

    /// Revoke a SCIM token: requests that send it are refused from now on.
    async fn revoke_scim_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id of the token (`ScimToken.id`); an unknown id is an error.")] id: String,
    ) -> Result<CommonMessage> {
        let pool = ctx.pool()?;
        ctx.state().scim_tokens.revoke(&pool, &id).await?;
        Ok(CommonMessage::ok("SCIM token revoked"))
    }
}
