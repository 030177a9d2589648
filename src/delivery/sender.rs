//! One webhook request: body (`{"eventName", "data"}` as JSON or form), Authing's headers and
//! Standard Webhooks signing, sent through the guard; returns what was sent and received.

use std::{sync::Arc, time::Instant};

use entity::webhook::{self, ContentType};
use serde_json::{Map, Value, json};

use super::{guard::Guard, sign::signature};
use crate::{
    config::WebhookConfig,
    domain::webhooks::{
        manual::{self, ManualRequest},
        secret::signing_key,
    },
};

/// Largest response body kept in the delivery log.
pub const MAX_LOGGED_BODY: usize = 4096;

/// What one request sent and got back.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub url: String,
    /// Sent headers, with the secret masked.
    pub request_headers: Value,
    pub request_body: String,
    pub response_status: Option<u16>,
    pub response_headers: Value,
    pub response_body: Option<String>,
    pub duration_ms: i64,
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.response_status.is_some_and(|s| (200..300).contains(&s))
    }
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    guard: Guard,
    /// Requests go through `--webhook-proxy`: the guard checks the host's addresses first,
    /// since the proxy, not our resolver, connects.
    proxied: bool,
}

impl Sender {
    pub fn new(cfg: &WebhookConfig) -> anyhow::Result<Self> {
        install_tls_provider();
        let guard = Guard::new(&cfg.allow_hosts);
        let mut client = reqwest::Client::builder()
            .dns_resolver(Arc::new(guard.clone()))
            // A redirect could lead where the guard would not let the first request go.
            .redirect(reqwest::redirect::Policy::none())
            // HTTP_PROXY and friends are ignored: a proxy resolves names itself, past the guard.
            .no_proxy()
            .timeout(std::time::Duration::from_secs(cfg.timeout_secs.max(1)))
            .user_agent("authing-webhook@2.0");
        let proxied = match &cfg.proxy {
            Some(url) => {
                client = client.proxy(reqwest::Proxy::all(url.as_str())?);
                true
            }
            None => false,
        };
        Ok(Sender { client: client.build()?, guard, proxied })
    }

    /// Deliver `event_name` with `data` to the webhook as message `message_id` (the event's id).
    pub async fn send(&self, hook: &webhook::Model, message_id: &str, event_name: &str, data: &Value) -> Attempt {
        let body = event_body(hook.content_type, event_name, data);
        self.post(hook, message_id, body, content_type_of(hook.content_type), &[]).await
    }

    /// Send a request made by hand (`trigger-webhook`, `testWebhook`): the caller's body (else the
    /// test event) and headers, with the webhook's own headers and signature, through the same
    /// guard and bounded read as deliveries.
    pub async fn send_manual(&self, hook: &webhook::Model, request_id: &str, request: &ManualRequest) -> Attempt {
        let body = match &request.body {
            Some(body) => body.clone(),
            None => event_body(hook.content_type, manual::TEST_EVENT, &manual::test_data()),
        };
        let content_type = request.content_type.as_deref().unwrap_or(content_type_of(hook.content_type));
        self.post(hook, request_id, body, content_type, &request.headers).await
    }

    async fn post(&self, hook: &webhook::Model, message_id: &str, body: String, content_type: &str, extra: &[(String, String)]) -> Attempt {
        let timestamp = chrono::Utc::now().timestamp();
        let mut headers: Vec<(&str, String)> = vec![
            ("content-type", content_type.to_string()),
            ("user-agent", "authing-webhook@2.0".to_string()),
            ("x-authing-webhook-secret", hook.secret.clone()),
            ("x-genauth-token", hook.secret.clone()),
            ("x-authing-userpool-id", hook.user_pool_id.clone()),
            ("webhook-id", message_id.to_string()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature(&signing_key(&hook.secret), message_id, timestamp, &body)),
        ];
        for (name, value) in extra {
            match headers.iter_mut().find(|(k, _)| *k == name.as_str()) {
                Some(ours) => ours.1 = value.clone(),
                None => headers.push((name.as_str(), value.clone())),
            }
        }
        let masked: Map<String, Value> = headers
            .iter()
            .map(|(k, v)| {
                let secret = matches!(*k, "x-authing-webhook-secret" | "x-genauth-token");
                ((*k).to_string(), Value::String(if secret && !v.is_empty() { "***".into() } else { v.clone() }))
            })
            .collect();
        let mut attempt = Attempt {
            url: hook.url.clone(),
            request_headers: Value::Object(masked),
            request_body: body.clone(),
            response_status: None,
            response_headers: json!({}),
            response_body: None,
            duration_ms: 0,
            error: None,
        };
        if let Err(e) = self.check_destination(&hook.url).await {
            attempt.error = Some(e);
            return attempt;
        }
        let mut req = self.client.post(&hook.url).body(body);
        for (k, v) in &headers {
            req = req.header(*k, v);
        }
        let started = Instant::now();
        match req.send().await {
            Ok(res) => {
                attempt.response_status = Some(res.status().as_u16());
                attempt.response_headers = Value::Object(
                    res.headers().iter().map(|(k, v)| (k.to_string(), Value::String(v.to_str().unwrap_or("").to_string()))).collect(),
                );
                attempt.response_body = Some(read_prefix(res, MAX_LOGGED_BODY).await);
            }
            Err(e) => attempt.error = Some(describe(&e)),
        }
        attempt.duration_ms = started.elapsed().as_millis() as i64;
        attempt
    }

    /// reqwest does not resolve IP literals, so the guard checks them here; through a proxy it
    /// resolves nothing itself, so the guard resolves the host here too.
    async fn check_destination(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
        let host = parsed.host_str().unwrap_or_default();
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse() {
            if !self.guard.ip_allowed(host, ip) {
                return Err(format!("{host} is an address webhooks may not reach (see --webhook-allow-hosts)"));
            }
        } else if self.proxied {
            let port = parsed.port_or_known_default().unwrap_or(80);
            self.guard.check_host(host, port).await?;
        }
        Ok(())
    }
}

fn content_type_of(content_type: ContentType) -> &'static str {
    match content_type {
        ContentType::Form => "application/x-www-form-urlencoded",
        ContentType::Json => "application/json",
    }
}

/// A delivery's body: `{"eventName", "data"}` as JSON, or as form fields with `data` as JSON text.
fn event_body(content_type: ContentType, event_name: &str, data: &Value) -> String {
    match content_type {
        ContentType::Form => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("eventName", event_name);
            form.append_pair("data", &data.to_string());
            form.finish()
        }
        ContentType::Json => json!({ "eventName": event_name, "data": data }).to_string(),
    }
}

/// reqwest's rustls needs a process-wide crypto provider before any client is built; a second
/// install is a no-op.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// The first `max` bytes of a response body, as text; the rest is never read (the connection is
/// dropped), so a huge answer costs `max` bytes of memory, not its size.
async fn read_prefix(mut res: reqwest::Response, max: usize) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut more = false;
    while let Ok(Some(chunk)) = res.chunk().await {
        let room = max - kept.len();
        if chunk.len() > room {
            kept.extend_from_slice(&chunk[..room]);
            more = true;
            break;
        }
        kept.extend_from_slice(&chunk);
    }
    if more {
        // Cut back to a character boundary, so a multi-byte character is not half kept.
        while !kept.is_empty() && std::str::from_utf8(&kept).is_err_and(|e| e.error_len().is_none()) {
            kept.pop();
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if more {
        text.push('…');
    }
    text
}
