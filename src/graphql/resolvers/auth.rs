use async_graphql::{Context, Object, Result};

use crate::graphql::{context::{ClientAddress, ContextExt}, types::common::{AccessTokenRes, RefreshAccessTokenRes}};

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// A management access token for the user pool, given its id and secret.
    async fn access_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user pool's id.")] user_pool_id: String,
        #[graphql(desc = "The user pool's secret. Failed attempts are rate-limited per client address and per pool.")]
        secret: String,
    ) -> Result<AccessTokenRes> {
        let state = ctx.state();
        let address = ctx.data_opt::<ClientAddress>().map(|a| a.0);
        Ok(state.pools.login(&user_pool_id, &secret, address).await?.into())
    }
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// A fresh token of the session of a still valid one (the argument, else the bearer token):
    /// it expires no later than the session's maximum lifetime, counted from the login.
    async fn refresh_access_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token to refresh; when null or empty, the request's bearer token.")]
        access_token: Option<String>,
    ) -> Result<RefreshAccessTokenRes> {
        let state = ctx.state();
        let claims = match access_token.filter(|t| !t.is_empty()) {
            Some(token) => std::sync::Arc::new(state.tokens.verify(&token).await?),
            None => ctx.auth().claims()?,
        };
        Ok(state.pools.refresh(&claims).await?.into())
    }
}
