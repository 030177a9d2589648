//! Cost limits checked on the parsed document before async-graphql validates it. Validation
//! (depth, complexity, field merging) re-expands every fragment spread, so a small document whose
//! fragments spread each other twice per level expands exponentially: 900 bytes took seconds and
//! gigabytes. This pre-pass measures the expanded document in time linear in its size (each
//! fragment is measured once and memoised) and refuses, with `QUERY_TOO_COMPLEX`, documents that
//! are too large, expand to too many selections, select too many root fields, nest too deeply, or
//! ask for more than one credential check.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Name, Positioned, Request, ServerError, ServerResult,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest},
    parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet},
};

use crate::{config::Limits, error::code};

/// Root fields that check a credential (Argon2, tens of milliseconds of CPU each): at most one per
/// operation.
const CREDENTIAL_FIELDS: &[&str] = &["accessToken"];

/// Deepest nesting of selections and fragment spreads walked. Far beyond any real document; it
/// keeps this walk and async-graphql's recursive validators off the end of the stack.
const MAX_NESTING: usize = 100;

#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    pub max_bytes: usize,
    pub max_nodes: u64,
    pub max_root_fields: u64,
}

impl From<&Limits> for DocumentLimits {
    fn from(l: &Limits) -> Self {
        DocumentLimits { max_bytes: l.max_query_bytes, max_nodes: l.max_query_nodes, max_root_fields: l.max_root_fields }
    }
}

/// The async-graphql extension that applies [`DocumentLimits`] to every request (HTTP,
/// WebSocket, internal).
pub struct DocumentLimitsExtension {
    limits: DocumentLimits,
    parsed: Arc<Parsed>,
}

impl DocumentLimitsExtension {
    pub fn new(limits: DocumentLimits) -> Self {
        DocumentLimitsExtension { limits, parsed: Arc::default() }
    }
}

impl ExtensionFactory for DocumentLimitsExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Checker(self.limits, self.parsed.clone()))
    }
}

/// What is derived from a document, kept by the document's text: clients send the same few
/// documents over and over. Bounded: small documents only, and emptied when full.
pub(super) struct ByDocument<V>(std::sync::Mutex<HashMap<String, V>>);

impl<V> Default for ByDocument<V> {
    fn default() -> Self {
        ByDocument(std::sync::Mutex::default())
    }
}

impl<V: Clone> ByDocument<V> {
    const MAX_DOCUMENTS: usize = 256;
    const MAX_BYTES: usize = 4096;

    pub(super) fn get(&self, query: &str) -> Option<V> {
        self.0.lock().ok()?.get(query).cloned()
    }

    pub(super) fn keep(&self, query: &str, value: &V) {
        if query.len() > Self::MAX_BYTES {
            return;
        }
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= Self::MAX_DOCUMENTS {
                map.clear();
            }
            map.insert(query.to_string(), value.clone());
        }
    }
}

/// Documents already parsed and measured: parsing one cost more than validating and running
/// it (a tenth of a member page's CPU).
type Parsed = ByDocument<ExecutableDocument>;

struct Checker(DocumentLimits, Arc<Parsed>);

/// Runs as the request is prepared, before async-graphql's own parse step: that step already
/// walks every fragment spread (its recursion-depth check), so the document is parsed and measured
/// here and handed on parsed.
#[async_trait::async_trait]
impl Extension for Checker {
    async fn prepare_request(&self, ctx: &ExtensionContext<'_>, mut request: Request, next: NextPrepareRequest<'_>) -> ServerResult<Request> {
        if request.query.len() > self.0.max_bytes {
            return Err(too_complex(format!(
                "the document has {} bytes, more than the {} allowed (--max-query-bytes)",
                request.query.len(),
                self.0.max_bytes
            )));
        }
        if let Some(document) = self.1.get(&request.query) {
            request.set_parsed_query(document);
        // A document that does not parse goes on as it is, to fail with async-graphql's message.
        } else if let Ok(document) = async_graphql::parser::parse_query(&request.query) {
            check(&document, self.0).map_err(too_complex)?;
            self.1.keep(&request.query, &document);
            request.set_parsed_query(document);
        }
        next.run(ctx, request).await
    }
}

fn too_complex(message: String) -> ServerError {
    let mut err = ServerError::new(message, None);
    err.extensions.get_or_insert_with(Default::default).set("code", code::QUERY_TOO_COMPLEX);
    err
}

/// What a selection set costs once expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    /// Selections (fields, spreads, inline fragments) at every level: what a walk of the expanded
    /// document visits.
    nodes: u64,
    /// Fields at the top level of the set (through fragments), i.e. root fields of an operation.
    top_fields: u64,
    /// Of those, credential checks.
    top_credentials: u64,
    /// Levels of selections and spreads below the set.
    depth: usize,
}

/// Check every operation of `document` against `limits`.
pub fn check(document: &ExecutableDocument, limits: DocumentLimits) -> Result<(), String> {
    let mut walker = Walker { fragments: &document.fragments, memo: HashMap::new(), limits };
    for (name, operation) in document.operations.iter() {
        let label = name.map(|n| format!("operation {n}")).unwrap_or_else(|| "the operation".into());
        let cost = walker.selection_set(&operation.node.selection_set, 0)?;
        if cost.top_fields > limits.max_root_fields {
            return Err(format!(
                "{label} selects {} root fields, more than the {} allowed (--max-root-fields)",
                cost.top_fields, limits.max_root_fields
            ));
        }
        if cost.top_credentials > 1 {
            return Err(format!("{label} checks {} credentials; one request may check one (accessToken)", cost.top_credentials));
        }
    }
    Ok(())
}

enum Memo {
    InProgress,
    Done(Cost),
}

struct Walker<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    memo: HashMap<&'a str, Memo>,
    limits: DocumentLimits,
}

impl<'a> Walker<'a> {
    fn selection_set(&mut self, set: &'a Positioned<SelectionSet>, nesting: usize) -> Result<Cost, String> {
        if nesting > MAX_NESTING {
            return Err(format!("the document nests selections and fragments more than {MAX_NESTING} levels deep"));
        }
        let mut total = Cost::default();
        for item in &set.node.items {
            let cost = match &item.node {
                Selection::Field(field) => {
                    let inner = self.selection_set(&field.node.selection_set, nesting + 1)?;
                    let credential = CREDENTIAL_FIELDS.contains(&field.node.name.node.as_str());
                    Cost { nodes: inner.nodes.saturating_add(1), top_fields: 1, top_credentials: u64::from(credential), depth: inner.depth }
                }
                Selection::InlineFragment(inline) => {
                    let inner = self.selection_set(&inline.node.selection_set, nesting + 1)?;
                    Cost { nodes: inner.nodes.saturating_add(1), ..inner }
                }
                Selection::FragmentSpread(spread) => {
                    let inner = self.fragment(spread.node.fragment_name.node.as_str(), nesting + 1)?;
                    // A memoised fragment was measured where it was first spread; check it here too.
                    if nesting + 1 + inner.depth > MAX_NESTING {
                        return Err(format!("the document nests selections and fragments more than {MAX_NESTING} levels deep"));
                    }
                    Cost { nodes: inner.nodes.saturating_add(1), ..inner }
                }
            };
            total.depth = total.depth.max(cost.depth + 1);
            total.nodes = total.nodes.saturating_add(cost.nodes);
            total.top_fields = total.top_fields.saturating_add(cost.top_fields);
            total.top_credentials = total.top_credentials.saturating_add(cost.top_credentials);
            if total.nodes > self.limits.max_nodes {
                return Err(format!(
                    "the document expands to more than {} selections (--max-query-nodes); use fewer fragment spreads or aliases",
                    self.limits.max_nodes
                ));
            }
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a str, nesting: usize) -> Result<Cost, String> {
        match self.memo.get(name) {
            Some(Memo::Done(cost)) => return Ok(*cost),
            Some(Memo::InProgress) => return Err(format!("fragment {name} spreads itself")),
            None => {}
        }
        // An unknown fragment costs nothing here; validation reports it.
        let Some((key, definition)) = self.fragments.get_key_value(name) else { return Ok(Cost::default()) };
        self.memo.insert(key.as_str(), Memo::InProgress);
        let cost = self.selection_set(&definition.node.selection_set, nesting)?;
        self.memo.insert(key.as_str(), Memo::Done(cost));
        Ok(cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DocumentLimits = DocumentLimits { max_bytes: 100_000, max_nodes: 10_000, max_root_fields: 32 };

    #[test]
    fn parsed_documents_are_kept_small_and_few() {
        let parsed = Parsed::default();
        let doc = async_graphql::parser::parse_query("{ a }").expect("parses");
        parsed.keep("{ a }", &doc);
        assert!(parsed.get("{ a }").is_some());
        assert!(parsed.get("{ b }").is_none());
        let long = format!("{{ a {} }}", " ".repeat(Parsed::MAX_BYTES));
        parsed.keep(&long, &doc);
        assert!(parsed.get(&long).is_none());
        for i in 0..Parsed::MAX_DOCUMENTS + 1 {
            parsed.keep(&format!("{{ a{i} }}"), &doc);
        }
        assert!(parsed.0.lock().expect("lock").len() <= Parsed::MAX_DOCUMENTS);
    }

    fn run(doc: &str) -> Result<(), String> {
        check(&async_graphql::parser::parse_query(doc).expect("parses"), LIMITS)
    }

    /// `levels` fragments, each spreading the previous one twice: 2^levels fields expanded.
    fn doubling(levels: usize) -> String {
        let mut doc = String::from("fragment F1 on Query { __typename } ");
        for i in 2..=levels {
            doc.push_str(&format!("fragment F{i} on Query {{ ...F{p} ...F{p} }} ", p = i - 1));
        }
        doc.push_str(&format!("query {{ ...F{levels} }}"));
        doc
    }

    /// 2^60 fields would never be counted to the end: the check must stop at the bound. (Its
    /// speed is a benchmark's business; the deadline only turns a hang into a failure.)
    #[test]
    fn exponential_fragments_are_refused_without_expanding_them() {
        let (done, outcome) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(run(&doubling(60)));
        });
        let err = outcome.recv_timeout(std::time::Duration::from_secs(30)).expect("the check ends").unwrap_err();
        assert!(err.contains("--max-query-nodes"), "{err}");
        assert!(run(&doubling(5)).is_ok(), "16 fields are fine");
    }

    #[test]
    fn root_fields_and_credentials_are_bounded() {
        let many: String = (0..33).map(|i| format!("a{i}: __typename ")).collect();
        assert!(run(&format!("{{ {many} }}")).unwrap_err().contains("root fields"));
        let two = "{ a: accessToken(userPoolId: \"p\", secret: \"s\") { accessToken } b: accessToken(userPoolId: \"p\", secret: \"s\") { accessToken } }";
        assert!(run(two).unwrap_err().contains("credentials"));
        let through_fragment = "fragment T on Query { accessToken(userPoolId: \"p\", secret: \"s\") { accessToken } } { ...T ...T }";
        assert!(run(through_fragment).unwrap_err().contains("credentials"));
        assert!(run("{ accessToken(userPoolId: \"p\", secret: \"s\") { accessToken } }").is_ok());
    }

    #[test]
    fn cycles_and_deep_chains_end() {
        assert!(run("fragment A on Query { ...B } fragment B on Query { ...A } { ...A }").is_err());
        let mut chain = String::new();
        for i in 0..500 {
            chain.push_str(&format!("fragment F{i} on Query {{ ...F{} }} ", i + 1));
        }
        chain.push_str("fragment F500 on Query { __typename } { ...F0 }");
        assert!(run(&chain).unwrap_err().contains("levels deep"));
    }
}
