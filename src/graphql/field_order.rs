//! Answers list fields in selection order. async-graphql 7 resolves an object's fields
//! concurrently and writes each as it completes, so a field waiting on a DataLoader comes out
//! after the ones that did not wait. This extension puts every object of an answer (queries,
//! mutations, subscription events) back in the order the document selects its fields, aliases
//! and fragments included, and writes a field that failed as null where async-graphql leaves it
//! out. The order of a document is computed once and kept, like its parse.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_graphql::{
    Name, PathSegment, Request, Response, ServerResult, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest, NextSubscribe},
    parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet},
    Positioned,
};
use futures_util::{StreamExt as _, stream::BoxStream};

use super::limits::ByDocument;
use indexmap::IndexMap;

/// The response keys of an object in selection order, each with the order of its own value.
#[derive(Debug, Default)]
struct Order(IndexMap<Name, Order>);

/// Most keys an order may hold, all levels together: the document limits refuse larger
/// expansions before this runs; this bounds it on its own too.
const MAX_KEYS: usize = 20_000;
const MAX_DEPTH: usize = 64;

impl Order {
    /// The order of the fields `sets` select together (the same response key's sub-selections
    /// are merged, as GraphQL merges them), or `None` past the bounds.
    fn of(sets: &[&SelectionSet], fragments: &HashMap<Name, Positioned<FragmentDefinition>>, budget: &mut usize, depth: usize) -> Option<Order> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut keys: IndexMap<Name, Vec<&SelectionSet>> = IndexMap::new();
        for set in sets {
            collect(set, fragments, &mut keys, &mut Vec::new(), budget)?;
        }
        let mut order = IndexMap::with_capacity(keys.len());
        for (key, sub) in keys {
            let inner = if sub.is_empty() { Order::default() } else { Order::of(&sub, fragments, budget, depth + 1)? };
            order.insert(key, inner);
        }
        Some(Order(order))
    }

    /// Put `value`'s objects in this order (lists: each item).
    fn apply(&self, value: &mut Value) {
        match value {
            Value::List(items) => items.iter_mut().for_each(|item| self.apply(item)),
            Value::Object(map) => {
                let in_order = map.keys().map(|k| self.0.get_index_of(k)).try_fold(None::<usize>, |last, at| match (last, at) {
                    (Some(l), Some(a)) if a <= l => None,
                    (_, Some(a)) => Some(Some(a)),
                    (_, None) => None,
                });
                if in_order.is_none() {
                    let mut old = std::mem::take(map);
                    for key in self.0.keys() {
                        if let Some((k, v)) = old.swap_remove_entry(key) {
                            map.insert(k, v);
                        }
                    }
                    // Keys the document does not name (none expected) keep their place at the end.
                    map.extend(old);
                }
                for (key, v) in map.iter_mut() {
                    if let Some(inner) = self.0.get(key)
                        && !inner.0.is_empty()
                    {
                        inner.apply(v);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The fields of `set` (through fragments) by response key, with their sub-selections.
fn collect<'d>(
    set: &'d SelectionSet,
    fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>,
    keys: &mut IndexMap<Name, Vec<&'d SelectionSet>>,
    spreading: &mut Vec<&'d Name>,
    budget: &mut usize,
) -> Option<()> {
    for item in &set.items {
        *budget = budget.checked_sub(1)?;
        match &item.node {
            Selection::Field(f) => {
                let subs = keys.entry(f.node.response_key().node.clone()).or_default();
                if !f.node.selection_set.node.items.is_empty() {
                    subs.push(&f.node.selection_set.node);
                }
            }
            Selection::FragmentSpread(s) => {
                let name = &s.node.fragment_name.node;
                // A cycle is refused by validation; here it is only not followed.
                if spreading.contains(&name) {
                    continue;
                }
                if let Some(fragment) = fragments.get(name) {
                    spreading.push(name);
                    collect(&fragment.node.selection_set.node, fragments, keys, spreading, budget)?;
                    spreading.pop();
                }
            }
            Selection::InlineFragment(i) => collect(&i.node.selection_set.node, fragments, keys, spreading, budget)?,
        }
    }
    Some(())
}

/// The order of each operation of a document (`None`: the single unnamed operation).
type DocumentOrder = HashMap<Option<Name>, Order>;

fn document_order(doc: &ExecutableDocument) -> DocumentOrder {
    let mut budget = MAX_KEYS;
    doc.operations
        .iter()
        .filter_map(|(name, op)| Some((name.cloned(), Order::of(&[&op.node.selection_set.node], &doc.fragments, &mut budget, 0)?)))
        .collect()
}

/// Orders already computed, by document text (bounded like the parse cache).
#[derive(Default)]
struct Known(ByDocument<Arc<DocumentOrder>>);

impl Known {
    fn order_of(&self, request: &mut Request) -> Option<Arc<DocumentOrder>> {
        if let Some(order) = self.0.get(&request.query) {
            return Some(order);
        }
        let order = Arc::new(document_order(request.parsed_query().ok()?));
        self.0.keep(&request.query, &order);
        Some(order)
    }
}

/// The extension (see the module's documentation).
#[derive(Default)]
pub struct SelectionOrder(Arc<Known>);

impl ExtensionFactory for SelectionOrder {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Reorder { known: self.0.clone(), request: Arc::default() })
    }
}

/// One request's document order and operation name, set as it is prepared.
type Current = Arc<Mutex<Option<(Arc<DocumentOrder>, Option<Name>)>>>;

struct Reorder {
    known: Arc<Known>,
    request: Current,
}

fn reorder(current: &Current, response: &mut Response) {
    let Ok(current) = current.lock() else { return };
    let Some((orders, name)) = current.as_ref() else { return };
    let order = match name {
        Some(_) => orders.get(name),
        None if orders.len() == 1 => orders.values().next(),
        None => None,
    };
    let Some(order) = order else { return };
    // async-graphql leaves a field that failed out of its object; the specification has it
    // there, null, and clients caching by the selection (Apollo's) look for it.
    for error in &response.errors {
        if let Some((PathSegment::Field(key), parents)) = error.path.split_last()
            && let Some(Value::Object(parent)) = parents.iter().try_fold(&mut response.data, |at, step| match (at, step) {
                (Value::Object(map), PathSegment::Field(k)) => map.get_mut(k.as_str()),
                (Value::List(items), PathSegment::Index(i)) => items.get_mut(*i),
                _ => None,
            })
            && !parent.contains_key(key.as_str())
        {
            parent.insert(Name::new(key), Value::Null);
        }
    }
    order.apply(&mut response.data);
}

#[async_trait::async_trait]
impl Extension for Reorder {
    async fn prepare_request(&self, ctx: &ExtensionContext<'_>, request: Request, next: NextPrepareRequest<'_>) -> ServerResult<Request> {
        // After the other extensions: the document limits have measured it by then.
        let mut request = next.run(ctx, request).await?;
        if let Some(order) = self.known.order_of(&mut request)
            && let Ok(mut current) = self.request.lock()
        {
            *current = Some((order, request.operation_name.as_deref().map(Name::new)));
        }
        Ok(request)
    }

    async fn execute(&self, ctx: &ExtensionContext<'_>, operation_name: Option<&str>, next: NextExecute<'_>) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        reorder(&self.request, &mut response);
        response
    }

    fn subscribe<'s>(&self, ctx: &ExtensionContext<'_>, stream: BoxStream<'s, Response>, next: NextSubscribe<'_>) -> BoxStream<'s, Response> {
        let current = self.request.clone();
        next.run(ctx, stream)
            .map(move |mut response| {
                reorder(&current, &mut response);
                response
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ordered(query: &str, data: serde_json::Value) -> Vec<String> {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let orders = document_order(&doc);
        let mut value = Value::from_json(data).unwrap();
        orders.values().next().unwrap().apply(&mut value);
        fn keys(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => m.iter().for_each(|(k, v)| {
                    out.push(k.to_string());
                    keys(v, out)
                }),
                Value::List(items) => items.iter().for_each(|i| keys(i, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        keys(&value, &mut out);
        out
    }

    #[test]
    fn objects_follow_the_selection_through_aliases_fragments_and_lists() {
        let query = "{ a: n { ...F y } } fragment F on N { c ... on N { b } }";
        let data = serde_json::json!({ "a": [{ "b": 1, "y": 2, "c": 3 }, { "y": 2, "c": 3, "b": 1 }] });
        assert_eq!(ordered(query, data), ["a", "c", "b", "y", "c", "b", "y"]);
    }

    #[test]
    fn a_fragment_cycle_is_not_followed() {
        let doc = async_graphql::parser::parse_query("{ ...A } fragment A on Q { x ...B } fragment B on Q { y ...A }").unwrap();
        let orders = document_order(&doc);
        assert_eq!(orders.values().next().unwrap().0.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["x", "y"]);
    }
}
