//! GraphQL over HTTP: `POST /graphql/v2` and `POST /graphql`, GraphiQL on `GET /graphql`.

use crate::auth::Auth;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    extract::State,
    http::HeaderMap,
    response::{Html, IntoResponse, Response},
};

use super::HttpState;
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

pub async fn graphiql(State(http): State<HttpState>) -> Response {
    if !http.app.config.graphiql {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    Html(GraphiQLSource::build().endpoint("/graphql").subscription_endpoint("/graphql/ws").title("orgraph").finish())
        .into_response()
}
