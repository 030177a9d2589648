//! Trusted documents on `/graphql`: in production a frontend's documents are known when it is
//! built, so the server can run those and refuse every other. The manifest is the JSON that
//! Apollo's `generate-persisted-query-manifest` writes (`{"format":
//! "apollo-persisted-query-manifest", "operations": [{"id", "body", ...}]}`) or that
//! graphql-codegen's client preset writes for persisted documents (`{"<id>": "<document>"}`).
//! A request names its document by `documentId` (an optional `sha256:` prefix) or by Apollo's
//! `extensions.persistedQuery.sha256Hash`; a full document runs only when it is one of the
//! manifest's. With `--trusted-documents-playground`, the playground's own requests (its
//! `X-Orgraph-Client: playground` header with a valid access token) may run any document.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
};

use anyhow::Context as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::graphql_over_http::{Params, Refusal};
use crate::error::code;

/// The header the playground marks its requests with.
pub const PLAYGROUND_HEADER: &str = "x-orgraph-client";

pub struct TrustedDocuments {
    by_id: HashMap<String, String>,
    /// SHA-256 of each document's text: a full document sent is looked up by it.
    hashes: HashSet<String>,
    allow_playground: bool,
}

impl TrustedDocuments {
    pub fn load(path: &Path, allow_playground: bool) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading the trusted documents {}", path.display()))?;
        let json: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
        let by_id = Self::documents(&json).with_context(|| format!("{}: not a persisted-documents manifest", path.display()))?;
        Ok(Self::new(by_id, allow_playground))
    }

    fn new(by_id: HashMap<String, String>, allow_playground: bool) -> Self {
        let hashes = by_id.values().map(|body| sha256(body)).collect();
        TrustedDocuments { by_id, hashes, allow_playground }
    }

    /// The documents of either manifest format, by id.
    fn documents(json: &Value) -> anyhow::Result<HashMap<String, String>> {
        let map = json.as_object().context("the manifest must be a JSON object")?;
        if let Some(format) = map.get("format") {
            anyhow::ensure!(format == "apollo-persisted-query-manifest", "unknown manifest format {format}");
            let operations = map.get("operations").and_then(Value::as_array).context("`operations` must be a list")?;
            return operations
                .iter()
                .map(|op| {
                    let id = op.get("id").and_then(Value::as_str).context("an operation without an `id`")?;
                    let body = op.get("body").and_then(Value::as_str).context("an operation without a `body`")?;
                    Ok((id.to_string(), body.to_string()))
                })
                .collect();
        }
        map.iter()
            .map(|(id, body)| Ok((id.clone(), body.as_str().with_context(|| format!("the document of {id} is not a string"))?.to_string())))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Put the named document in `params`, or check that the one sent is trusted; `playground`:
    /// the request is the playground's, with a valid access token.
    pub fn resolve(&self, params: &mut Params, playground: bool) -> Result<(), Refusal> {
        let persisted = params.extensions.as_mut().and_then(|e| e.remove("persistedQuery"));
        let id = params
            .document_id
            .take()
            .map(|id| id.strip_prefix("sha256:").unwrap_or(&id).to_string())
            .or_else(|| persisted.as_ref().and_then(|p| p.get("sha256Hash")).and_then(Value::as_str).map(str::to_string));
        if let Some(id) = id {
            let Some(body) = self.by_id.get(&id) else {
                return Err(Refusal::graphql(code::PERSISTED_QUERY_NOT_FOUND, format!("no trusted document has the id {id}")));
            };
            params.query = Some(body.clone());
            return Ok(());
        }
        match &params.query {
            Some(text) if self.hashes.contains(&sha256(text)) => Ok(()),
            Some(_) if playground && self.allow_playground => Ok(()),
            Some(_) => Err(Refusal::graphql(
                code::PERSISTED_QUERY_NOT_IN_LIST,
                "this server runs only its trusted documents: send the document's id as documentId (or Apollo's persistedQuery hash)",
            )),
            None => Ok(()),
        }
    }
}

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(query: Option<&str>, document_id: Option<&str>) -> Params {
        Params { query: query.map(str::to_string), document_id: document_id.map(str::to_string), operation_name: None, variables: None, extensions: None }
    }

    #[test]
    fn both_manifest_formats_load() {
        let apollo = json!({ "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": "abc", "name": "Q", "type": "query", "body": "query Q { __typename }" }] });
        assert_eq!(TrustedDocuments::documents(&apollo).unwrap()["abc"], "query Q { __typename }");
        let codegen = json!({ "def": "query R { __typename }" });
        assert_eq!(TrustedDocuments::documents(&codegen).unwrap()["def"], "query R { __typename }");
        assert!(TrustedDocuments::documents(&json!({ "format": "other" })).is_err());
        assert!(TrustedDocuments::documents(&json!({ "x": 1 })).is_err());
        assert!(TrustedDocuments::documents(&json!([])).is_err());
    }

    #[test]
    fn only_trusted_documents_run() {
        let trusted = TrustedDocuments::new(HashMap::from([("abc".to_string(), "{ a }".to_string())]), true);
        let mut p = params(None, Some("sha256:abc"));
        trusted.resolve(&mut p, false).unwrap();
        assert_eq!(p.query.as_deref(), Some("{ a }"));
        assert!(trusted.resolve(&mut params(Some("{ a }"), None), false).is_ok(), "the text of a trusted document");
        assert_eq!(trusted.resolve(&mut params(Some("{ b }"), None), false).unwrap_err().code, code::PERSISTED_QUERY_NOT_IN_LIST);
        assert_eq!(trusted.resolve(&mut params(None, Some("nope")), false).unwrap_err().code, code::PERSISTED_QUERY_NOT_FOUND);
        assert!(trusted.resolve(&mut params(Some("{ b }"), None), true).is_ok(), "the playground, when allowed");
        let strict = TrustedDocuments::new(HashMap::new(), false);
        assert!(strict.resolve(&mut params(Some("{ b }"), None), true).is_err());
    }
}
