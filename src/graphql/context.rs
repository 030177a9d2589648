//! What a resolver needs from the request: the application state and the caller's pool.

use async_graphql::Context;

use crate::{auth::Auth, domain::PoolId, state::AppState};

pub trait ContextExt {
    fn state(&self) -> &AppState;
    /// The caller's pool, or the reason there is none (missing, invalid or expired token).
    fn pool(&self) -> async_graphql::Result<PoolId>;
    fn auth(&self) -> &Auth;
}

impl ContextExt for Context<'_> {
    fn state(&self) -> &AppState {
        self.data_unchecked::<AppState>()
    }

    fn pool(&self) -> async_graphql::Result<PoolId> {
        Ok(self.auth().require()?)
    }

    fn auth(&self) -> &Auth {
        static ANONYMOUS: Auth = Auth::Anonymous;
        self.data_opt::<Auth>().unwrap_or(&ANONYMOUS)
    }
}

/// The address of the client that sent the request (rate limits key on it).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);
