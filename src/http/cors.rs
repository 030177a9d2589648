//! CORS (`--cors-allowed-origins`): which browser pages on other origins may call the API. One
//! layer around every route, so that preflights (`OPTIONS`) are answered before routing and
//! every answer, errors and refusals included, carries the headers a browser needs to read it.
//! Without the flag there is no layer: same origin only, as before.
//!
//! Credentials: orgraph reads no cookies (callers send a bearer token, a pool id header or a
//! request signature), so allowing them grants nothing; but Authing's browser SDK sends every
//! request with `withCredentials`, which a browser refuses to read unless the answer says
//! `Access-Control-Allow-Credentials: true` for the exact origin. So a list of origins allows
//! credentials; `*` never does (browsers refuse that combination anyway).

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::AllowedOrigins;

/// Request headers a page may send: what the GraphQL clients (Apollo Client's CSRF and client
/// headers), Authing's JS SDK (v2) and authing-node-sdk (v3, with its request signature) send,
/// and SCIM's conditional requests.
const ALLOWED_HEADERS: [&str; 20] = [
    "accept",
    "accept-language",
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "x-requested-with",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "apollographql-client-name",
    "apollographql-client-version",
    "x-authing-userpool-id",
    "x-authing-app-id",
    "x-authing-app-tenant-id",
    "x-authing-request-from",
    "x-authing-sdk-version",
    "x-authing-lang",
    "x-authing-signature-nonce",
    "x-authing-signature-method",
    "x-authing-signature-version",
];

/// Response headers a page may read beyond the always-visible ones: when to retry a refused
/// request, SCIM's versions and created resources' addresses, an export's file name.
const EXPOSED_HEADERS: [HeaderName; 4] = [header::RETRY_AFTER, header::ETAG, header::LOCATION, header::CONTENT_DISPOSITION];

/// How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours).
const MAX_AGE: Duration = Duration::from_secs(600);

/// The layer for `origins`; `None` when no origin is allowed.
pub fn layer(origins: Option<&AllowedOrigins>) -> Option<CorsLayer> {
    let base = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS])
        .allow_headers(ALLOWED_HEADERS.map(HeaderName::from_static))
        .expose_headers(EXPOSED_HEADERS)
        .max_age(MAX_AGE);
    match origins? {
        AllowedOrigins::Any => Some(base.allow_origin(AllowOrigin::any())),
        AllowedOrigins::List(list) => {
            // Checked as origins when the configuration was read; a value that still is no
            // header value could never match an `Origin` anyway.
            let values: Vec<HeaderValue> = list.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
            if values.is_empty() {
                return None;
            }
            Some(base.allow_origin(AllowOrigin::list(values)).allow_credentials(true))
        }
    }
}
