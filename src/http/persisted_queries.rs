//! Apollo's automatic persisted queries on `/graphql`: a client sends only the SHA-256 of its
//! document (`extensions.persistedQuery`), and the full document once, when the server answers
//! `PERSISTED_QUERY_NOT_FOUND`. A GET with the hash alone is a short URL that CDNs can cache.
//!
//! The store maps hashes to document texts, per pool (a client learns nothing of what another
//! tenant sends), checks that a registered text hashes to its key, and holds at most its byte
//! budget (emptied when full: a client then registers again, one round trip). The text is
//! handed on as if the client had sent it, so the document limits and caches apply as usual.

use std::{collections::HashMap, sync::Mutex};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::graphql_over_http::{Params, Refusal};
use crate::error::code;

pub struct PersistedQueries {
    budget: usize,
    stored: Mutex<Stored>,
}

#[derive(Default)]
struct Stored {
    texts: HashMap<(String, String), String>,
    bytes: usize,
}

/// What `extensions.persistedQuery` holds.
struct Reference {
    hash: String,
}

impl PersistedQueries {
    /// A store of at most `budget` bytes of documents; 0 turns persisted queries off.
    pub fn new(budget: usize) -> Self {
        PersistedQueries { budget, stored: Mutex::default() }
    }

    /// Resolve `params`' persisted query for a caller of `scope` (its pool): register the text
    /// it carries, or put the registered text in place of the hash.
    pub fn resolve(&self, scope: &str, params: &mut Params) -> Result<(), Refusal> {
        let Some(reference) = reference(params)? else { return Ok(()) };
        if self.budget == 0 {
            return Err(Refusal::graphql(code::PERSISTED_QUERY_NOT_SUPPORTED, "PersistedQueryNotSupported"));
        }
        match &params.query {
            Some(text) => {
                if format!("{:x}", Sha256::digest(text.as_bytes())) != reference.hash {
                    return Err(Refusal::bad("provided sha does not match query"));
                }
                self.keep(scope, &reference.hash, text);
                Ok(())
            }
            None => {
                let found = self.stored.lock().ok().and_then(|s| s.texts.get(&(scope.to_string(), reference.hash)).cloned());
                match found {
                    Some(text) => {
                        params.query = Some(text);
                        Ok(())
                    }
                    None => Err(Refusal::graphql(code::PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")),
                }
            }
        }
    }

    fn keep(&self, scope: &str, hash: &str, text: &str) {
        let size = scope.len() + hash.len() + text.len();
        if size > self.budget {
            return;
        }
        let Ok(mut stored) = self.stored.lock() else { return };
        if stored.bytes + size > self.budget {
            *stored = Stored::default();
        }
        if stored.texts.insert((scope.to_string(), hash.to_string()), text.to_string()).is_none() {
            stored.bytes += size;
        }
    }
}

/// The reference in `params`' extensions (version 1), or its `documentId` (`sha256:<hex>`),
/// checked: a SHA-256 in hex.
fn reference(params: &mut Params) -> Result<Option<Reference>, Refusal> {
    let hash = if let Some(id) = params.document_id.take() {
        id.strip_prefix("sha256:").unwrap_or(&id).to_string()
    } else {
        let Some(value) = params.extensions.as_ref().and_then(|e| e.get("persistedQuery")) else { return Ok(None) };
        if value.get("version").and_then(Value::as_i64) != Some(1) {
            return Err(Refusal::bad("persistedQuery.version must be 1"));
        }
        value.get("sha256Hash").and_then(Value::as_str).unwrap_or("").to_string()
    };
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Refusal::bad("persistedQuery.sha256Hash must be a SHA-256 in hex"));
    }
    Ok(Some(Reference { hash: hash.to_ascii_lowercase() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use serde_json::json;

    fn params(query: Option<&str>, hash: &str) -> Params {
        Params {
            query: query.map(str::to_string),
            document_id: None,
            operation_name: None,
            variables: None,
            extensions: json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).as_object().cloned(),
        }
    }

    #[test]
    fn a_hash_is_found_once_registered_and_only_in_its_pool() {
        let store = PersistedQueries::new(1 << 20);
        let text = "{ __typename }";
        let hash = format!("{:x}", Sha256::digest(text.as_bytes()));
        assert_eq!(store.resolve("p1", &mut params(None, &hash)).unwrap_err().code, code::PERSISTED_QUERY_NOT_FOUND);
        store.resolve("p1", &mut params(Some(text), &hash)).unwrap();
        let mut p = params(None, &hash);
        store.resolve("p1", &mut p).unwrap();
        assert_eq!(p.query.as_deref(), Some(text));
        assert_eq!(store.resolve("p2", &mut params(None, &hash)).unwrap_err().code, code::PERSISTED_QUERY_NOT_FOUND);
        // A text that is not the hash's is refused and not kept.
        let other = format!("{:x}", Sha256::digest(b"{ other }"));
        assert_eq!(store.resolve("p1", &mut params(Some(text), &other)).unwrap_err().status, StatusCode::BAD_REQUEST);
        assert!(store.resolve("p1", &mut params(None, &other)).is_err());
    }

    #[test]
    fn the_store_stays_within_its_budget() {
        let store = PersistedQueries::new(2_000);
        for i in 0..100 {
            let text = format!("{{ a{i}: __typename }}");
            let hash = format!("{:x}", Sha256::digest(text.as_bytes()));
            store.resolve("p", &mut params(Some(&text), &hash)).unwrap();
            assert!(store.stored.lock().unwrap().bytes <= 2_000);
        }
        let off = PersistedQueries::new(0);
        assert_eq!(off.resolve("p", &mut params(None, &"a".repeat(64))).unwrap_err().code, code::PERSISTED_QUERY_NOT_SUPPORTED);
    }
}
