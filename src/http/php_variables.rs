//! Authing's PHP SDK sends `[]` for an optional string variable it has no value for: PHP's
//! `json_encode` of an empty array (`listAuthorizedResourcesByNodeCode` does, for its
//! `$resourceType: String`). On `/graphql/v2` such a variable reads as null. Only variables the
//! operation declares as `String` are touched: one declared as a list keeps its `[]`, which
//! means "none" (`updateNode(leaderUserIds: [])` clears the leaders).

use async_graphql::{
    Request, Value,
    parser::types::{BaseType, ExecutableDocument, OperationDefinition},
};

/// Rewrite, in `request`, each `[]` given to a variable declared `String` as null.
pub fn empty_arrays_as_null(request: &mut Request) {
    // The document is parsed only when an empty list was sent (rare); the limits extension
    // measures it again before execution, as it does every document.
    if !request.variables.values().any(is_empty_list) {
        return;
    }
    // A document that does not parse is left to fail with async-graphql's message.
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else { return };
    let Some(operation) = operation(&document, request.operation_name.as_deref()) else { return };
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        let is_string = matches!(&definition.var_type.node.base, BaseType::Named(name) if name.as_str() == "String");
        if let Some(value) = request.variables.get_mut(definition.name.node.as_str())
            && is_string
            && is_empty_list(value)
        {
            *value = Value::Null;
        }
    }
}

fn is_empty_list(value: &Value) -> bool {
    matches!(value, Value::List(items) if items.is_empty())
}

/// The operation the request runs: the one named, or the document's only one.
fn operation<'a>(document: &'a ExecutableDocument, name: Option<&str>) -> Option<&'a OperationDefinition> {
    let mut operations = document.operations.iter();
    let found = match name {
        Some(name) => operations.find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
        None => operations.next().filter(|_| operations.next().is_none()),
    };
    found.map(|(_, operation)| &operation.node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(query: &str, operation: Option<&str>, variables: serde_json::Value) -> serde_json::Value {
        let mut request = Request::new(query).variables(async_graphql::Variables::from_json(variables));
        if let Some(name) = operation {
            request = request.operation_name(name);
        }
        empty_arrays_as_null(&mut request);
        request.variables.into_value().into_json().unwrap_or_default()
    }

    #[test]
    fn only_string_variables_lose_their_empty_array() {
        let q = "query q($s: String, $l: [String!], $n: Int) { a }";
        let out = rewritten(q, None, serde_json::json!({ "s": [], "l": [], "n": [], "undeclared": [] }));
        assert_eq!(out, serde_json::json!({ "s": null, "l": [], "n": [], "undeclared": [] }));
    }

    #[test]
    fn the_named_operation_decides() {
        let q = "query a($v: String) { a } query b($v: [String]) { b }";
        assert_eq!(rewritten(q, Some("a"), serde_json::json!({ "v": [] })), serde_json::json!({ "v": null }));
        assert_eq!(rewritten(q, Some("b"), serde_json::json!({ "v": [] })), serde_json::json!({ "v": [] }));
        // Ambiguous or unparsable: left as sent, for async-graphql to refuse.
        assert_eq!(rewritten(q, None, serde_json::json!({ "v": [] })), serde_json::json!({ "v": [] }));
        assert_eq!(rewritten("query($v: String) {", None, serde_json::json!({ "v": [] })), serde_json::json!({ "v": [] }));
    }
}
