//! Who calls a v2 REST route: the pool of the request's bearer token (checked against the
//! `x-authing-userpool-id` header the SDKs send). The one way v2 REST handlers find their caller;
//! a refusal answers in the v2 envelope.

use axum::{extract::FromRequestParts, http::request::Parts};

use super::{HttpState, envelope::V2Error};
use crate::{auth::Auth, domain::PoolId};

pub struct V2Caller(pub PoolId);

impl FromRequestParts<HttpState> for V2Caller {
    type Rejection = V2Error;

    async fn from_request_parts(parts: &mut Parts, http: &HttpState) -> Result<Self, V2Error> {
        Ok(V2Caller(Auth::from_headers(&http.app.tokens, &parts.headers).await.require()?))
    }
}
