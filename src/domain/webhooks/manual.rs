//! A request sent by hand to a webhook (v3 `trigger-webhook`, GraphQL `testWebhook`): what the
//! caller may choose. The webhook's own headers (its secret, the pool, the Standard Webhooks id,
//! timestamp and the signature over the body actually sent) are always orgraph's, and the headers
//! that frame the connection belong to the HTTP client, so none of those can be set here.

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::{
    domain::events::MAX_DATA_BYTES,
    error::{AppError, AppResult},
};

/// The event name of a test request.
pub const TEST_EVENT: &str = "test";

/// The data of a test request, as GenAuth sends it.
pub fn test_data() -> Value {
    json!({ "description": "A test from GenAuth Webhook" })
}

/// Headers a caller may not set (see the module comment).
const RESERVED: &[&str] = &[
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "expect",
    "proxy-authorization", "proxy-connection", "x-authing-webhook-secret", "x-genauth-token", "x-authing-userpool-id",
    "webhook-id", "webhook-timestamp", "webhook-signature",
];
/// Most headers a caller may add.
pub const MAX_HEADERS: usize = 50;
/// Longest value of one added header.
pub const MAX_HEADER_VALUE: usize = 8_192;

#[derive(Debug, Clone, Default)]
pub struct ManualRequest {
    /// The body to send; `None` sends the test event in the webhook's content type.
    pub body: Option<String>,
    /// The content type, when not the webhook's: the caller's, or JSON for a JSON body.
    pub content_type: Option<String>,
    /// More headers, lower-case names, after the webhook's own (`user-agent` replaces orgraph's).
    pub headers: Vec<(String, String)>,
}

impl ManualRequest {
    /// From the caller's `requestHeaders` (an object of texts) and `requestBody` (a text, sent as
    /// it is, or any other JSON value, sent as JSON).
    pub fn new(headers: Option<&Value>, body: Option<&Value>) -> AppResult<Self> {
        let mut request = ManualRequest::default();
        match body {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => request.body = Some(text.clone()),
            Some(value) => {
                request.body = Some(value.to_string());
                request.content_type = Some("application/json".into());
            }
        }
        if request.body.as_ref().is_some_and(|b| b.len() > MAX_DATA_BYTES) {
            return Err(AppError::invalid("requestBody", format!("requestBody is larger than {MAX_DATA_BYTES} bytes")));
        }
        let headers = match headers {
            None | Some(Value::Null) => return Ok(request),
            Some(Value::Object(map)) => map,
            Some(_) => return Err(AppError::invalid("requestHeaders", "requestHeaders must be an object of header names and values")),
        };
        if headers.len() > MAX_HEADERS {
            return Err(AppError::invalid("requestHeaders", format!("at most {MAX_HEADERS} requestHeaders")));
        }
        for (name, value) in headers {
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => value.to_string(),
                _ => return Err(AppError::invalid("requestHeaders", format!("the value of header {name:?} must be a text"))),
            };
            let parsed = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| AppError::invalid("requestHeaders", format!("{name:?} is not a header name")))?;
            if value.len() > MAX_HEADER_VALUE || HeaderValue::from_str(&value).is_err() {
                return Err(AppError::invalid(
                    "requestHeaders",
                    format!("the value of header {name:?} must be visible ASCII text of at most {MAX_HEADER_VALUE} bytes"),
                ));
            }
            let name = parsed.as_str().to_string();
            if RESERVED.contains(&name.as_str()) || name.starts_with("proxy-") {
                return Err(AppError::invalid(
                    "requestHeaders",
                    format!("header {name:?} is set by orgraph or its HTTP client (the webhook's secret and signature, the connection), not by the caller"),
                ));
            }
            if name == "content-type" {
                request.content_type = Some(value);
            } else {
                request.headers.push((name, value));
            }
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_headers() {
        let r = ManualRequest::new(Some(&json!({ "X-Trace": "1", "n": 2 })), Some(&json!({ "a": 1 }))).unwrap();
        assert_eq!(r.body.as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        let mut headers = r.headers.clone();
        headers.sort();
        assert_eq!(headers, vec![("n".to_string(), "2".to_string()), ("x-trace".to_string(), "1".to_string())]);
        let r = ManualRequest::new(Some(&json!({ "content-type": "text/plain" })), Some(&json!("raw text"))).unwrap();
        assert_eq!((r.body.as_deref(), r.content_type.as_deref()), (Some("raw text"), Some("text/plain")));
        let r = ManualRequest::new(None, None).unwrap();
        assert!(r.body.is_none() && r.content_type.is_none() && r.headers.is_empty());
        for bad in [json!({ "webhook-signature": "v1,x" }), json!({ "Host": "x" }), json!({ "bad name": "x" }), json!({ "x": "a\nb" }), json!({ "x": {} }), json!(["x"])] {
            assert!(ManualRequest::new(Some(&bad), None).is_err(), "{bad}");
        }
        assert!(ManualRequest::new(None, Some(&json!("x".repeat(MAX_DATA_BYTES + 1)))).is_err());
    }
}
