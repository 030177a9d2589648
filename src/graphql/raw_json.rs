//! JSON already serialized, placed inside a GraphQL answer. async-graphql builds every answer as
//! a `Value` tree; a whole org's listing is 60,000 values built, serialized and freed on every
//! request. A resolver holding the bytes of its answer (a cached listing) hands them to the
//! HTTP layer instead: the answer carries a placeholder string made unguessable by a random
//! per-request nonce, and the HTTP layer writes the bytes where the placeholder would be.
//! Requests served elsewhere (WebSocket, batches) carry no `RawJson`: resolvers then answer
//! with values as usual.

use std::sync::{Arc, Mutex};

use async_graphql::Value;

/// The placeholders of one request and the bytes each stands for.
pub struct RawJson {
    nonce: String,
    parts: Mutex<Vec<Arc<Vec<u8>>>>,
}

impl Default for RawJson {
    fn default() -> Self {
        RawJson { nonce: crate::ids::random_hex(16), parts: Mutex::new(Vec::new()) }
    }
}

/// Starts every placeholder; serialized as `\u0001` (a control character, escaped by JSON).
const MARK: char = '\u{1}';

impl RawJson {
    fn parts(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Vec<u8>>>> {
        self.parts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value to answer with: a placeholder for `json` (one complete JSON value).
    pub fn place(&self, json: Arc<Vec<u8>>) -> Value {
        let mut parts = self.parts();
        parts.push(json);
        Value::String(format!("{MARK}orgraph-raw:{}:{}", self.nonce, parts.len() - 1))
    }

    /// `serialized` (an answer written by serde_json) with every placeholder replaced by its
    /// bytes. A placeholder that is not found (its field was nulled by an error) is skipped.
    pub fn splice(&self, serialized: Vec<u8>) -> Vec<u8> {
        let parts = self.parts();
        if parts.is_empty() {
            return serialized;
        }
        // Where each placeholder is, as serde_json wrote it (quotes included), in text order.
        let mut found: Vec<(usize, usize, usize)> = Vec::with_capacity(parts.len());
        for i in 0..parts.len() {
            let needle = format!("\"\\u0001orgraph-raw:{}:{i}\"", self.nonce);
            if let Some(at) = find(&serialized, needle.as_bytes()) {
                found.push((at, needle.len(), i));
            }
        }
        found.sort_unstable();
        let extra: usize = found.iter().map(|&(_, _, i)| parts[i].len()).sum();
        let mut out = Vec::with_capacity(serialized.len() + extra);
        let mut from = 0;
        for (at, len, i) in found {
            out.extend_from_slice(&serialized[from..at]);
            out.extend_from_slice(&parts[i]);
            from = at + len;
        }
        out.extend_from_slice(&serialized[from..]);
        out
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_by_their_bytes_and_nothing_else_is() {
        let raw = RawJson::default();
        let a = raw.place(Arc::new(br#"[{"id":"a"}]"#.to_vec()));
        let b = raw.place(Arc::new(b"[]".to_vec()));
        // A string that looks like a placeholder but has another nonce stays a string.
        let forged = Value::String(format!("{MARK}orgraph-raw:{}:0", "0".repeat(32)));
        let answer = async_graphql::value!({ "x": { "nodes": b, "other": forged, "first": a } });
        let text = String::from_utf8(raw.splice(serde_json::to_vec(&answer).unwrap_or_default())).unwrap_or_default();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(parsed["x"]["nodes"], serde_json::json!([]));
        assert_eq!(parsed["x"]["first"], serde_json::json!([{ "id": "a" }]));
        assert_eq!(parsed["x"]["other"].as_str().map(|s| s.starts_with('\u{1}')), Some(true));
    }
}
