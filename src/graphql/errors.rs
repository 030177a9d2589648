//! How domain errors reach GraphQL clients: `message` is a readable string (as the GraphQL spec
//! wants) and `extensions.code` the stable code; `extensions.field` names the offending input.
//! Internal details are logged, never sent.

use async_graphql::ErrorExtensions;

use crate::error::{AppError, code};

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.log_if_internal();
        err.extend()
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, e| {
            e.set("code", self.code());
            e.set("authingCode", self.authing_code());
            if let Some(field) = self.field() {
                e.set("field", field);
            }
            if let Some(secs) = self.retry_after() {
                e.set("retryAfter", secs);
            }
        })
    }
}

/// The messages of async-graphql's own depth and complexity limits: refused as orgraph's other
/// limits are.
const LIMIT_MESSAGES: [&str; 2] = ["Query is too complex.", "Query is nested too deep."];

/// Give every error of a response a code: the ones async-graphql raises itself (parse,
/// validation, limits, argument coercion) carry none.
pub fn ensure_codes(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let has_code = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
        if !has_code {
            let code = if !error.path.is_empty() {
                code::INVALID_INPUT
            } else if LIMIT_MESSAGES.contains(&error.message.as_str()) {
                code::QUERY_TOO_COMPLEX
            } else {
                code::GRAPHQL_VALIDATION_FAILED
            };
            error.extensions.get_or_insert_with(Default::default).set("code", code);
        }
    }
}
