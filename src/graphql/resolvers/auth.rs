use async_graphql::{Context, Object, Result};

use crate::{
    error::AppError,
    graphql::{context::{ClientAddress, ContextExt}, types::common::{AccessTokenRes, RefreshAccessTokenRes}},
    auth::Auth,
};

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// A management access token for the user pool, given its id and secret.
    async fn access_token(
        &self,
        ctx: &Context<'_>,
        user_pool_id: String,
        secret: String,
    ) -> Result<AccessTokenRes> {
        let state = ctx.state();
        let address = ctx.data_opt::<ClientAddress>().map(|a| a.0);
        let pool = state.pools.authenticate(&user_pool_id, &secret, address).await?;
        Ok(state.tokens.issue(pool.as_str())?.into())
    }
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// A fresh token for the pool of a still valid one (the argument, else the bearer token).
    async fn refresh_access_token(
        &self,
        ctx: &Context<'_>,
        access_token: Option<String>,
    ) -> Result<RefreshAccessTokenRes> {
        let state = ctx.state();
        let pool_id = match access_token.filter(|t| !t.is_empty()) {
            Some(token) => state.tokens.verify(&token)?.scoped_userpool_id,
            None => match ctx.auth() {
                Auth::Anonymous => return Err(AppError::Unauthenticated.into()),
                auth => auth.require()?.as_str().to_string(),
            },
        };
        let pool = state.pools.existing(&pool_id).await?;
        Ok(state.tokens.issue(pool.as_str())?.into())
    }
}
