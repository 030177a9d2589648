//! REST routes the SDKs use to authenticate: the v3 management token and the v2 public key
//! that passwords are encrypted with.

use axum::{Json, extract::State, response::Response};
use serde::Deserialize;
use serde_json::json;

use super::{
    HttpState,
    envelope::{V2Error, V3Error, v2_ok, v3_ok},
};
use crate::error::AppError;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementTokenRequest {
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
}

/// `POST /api/v3/get-management-token` with `{accessKeyId, accessKeySecret}` (pool id and secret).
pub async fn management_token(
    State(http): State<HttpState>,
    extensions: axum::http::Extensions,
    body: Option<Json<ManagementTokenRequest>>,
) -> Result<Response, V3Error> {
    let Some(Json(body)) = body else {
        return Err(AppError::invalid("body", "send a JSON body {accessKeyId, accessKeySecret}").into());
    };
    let id = body.access_key_id.unwrap_or_default();
    let secret = body.access_key_secret.unwrap_or_default();
    if id.is_empty() || secret.is_empty() {
        return Err(AppError::invalid("accessKeyId", "accessKeyId and accessKeySecret are required").into());
    }
    let address = super::client_address::client_address(&extensions);
    let token = http.app.pools.login(&id, &secret, address).await?;
    Ok(v3_ok(json!({ "access_token": token.token, "expires_in": token.exp - token.iat })))
}

/// `GET /api/v2/.well-known`: the public key of the password encryption.
pub async fn well_known(State(http): State<HttpState>) -> Result<Response, V2Error> {
    let keys = http.app.password_keys.get().await?;
    Ok(v2_ok(json!({ "publicKey": keys.public_pem() })))
}
