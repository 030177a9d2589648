//! `GET /api/v2/users/{id}`: the user detail route of authing-js-sdk's `users.detail`.

use axum::{
    extract::{Path, State},
    response::Response,
};

use super::{
    HttpState,
    envelope::{V2Error, v2_ok},
    v2_caller::V2Caller,
};
use crate::views::user::User;

pub async fn detail(
    State(http): State<HttpState>,
    V2Caller(pool): V2Caller,
    Path(id): Path<String>,
) -> Result<Response, V2Error> {
    let user: User = http.app.users.get(&pool, &id).await?.into();
    Ok(v2_ok(user))
}
