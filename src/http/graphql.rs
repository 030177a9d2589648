//! GraphQL over HTTP: `POST /graphql/v2` and `POST /graphql` (the playground on `GET /graphql` is
//! playground.rs).

use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    extract::State,
    http::HeaderMap,
};

use super::{HttpState, auth::Auth};
use crate::graphql::{context::ClientAddress, errors::ensure_codes};

pub async fn execute(
    State(http): State<HttpState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    req: GraphQLRequest,
) -> GraphQLResponse {
    let auth = Auth::from_headers(&http.app.tokens, &headers);
    let mut request = req.into_inner().data(auth);
    if let Some(address) = super::listener::client_address(&extensions) {
        request = request.data(ClientAddress(address));
    }
    let mut response = http.schema.execute(request).await;
    ensure_codes(&mut response);
    for error in &response.errors {
        let code = error.extensions.as_ref().and_then(|e| e.get("code")).map(|c| c.to_string());
        tracing::debug!(code = code.as_deref().unwrap_or(""), message = %error.message, "graphql error");
    }
    response.into()
}
