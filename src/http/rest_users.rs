//! `GET /api/v2/users/{id}`: the user detail route of authing-js-sdk's `users.detail`.

use crate::auth::Auth;
use axum::{
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
};

use super::{
    HttpState,
    envelope::{V2Error, v2_ok},
};
use crate::views::user::User;

pub async fn detail(
    State(http): State<HttpState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, V2Error> {
    let pool = Auth::from_headers(&http.app.tokens, &headers).require()?;
    let user: User = http.app.users.get(&pool, &id).await?.into();
    Ok(v2_ok(user))
}
