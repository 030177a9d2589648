//! `schema.graphql` must equal the SDL the server exports. `UPDATE_SCHEMA=1 cargo test schema`
//! rewrites it.

use crate::harness::TestServer;

#[tokio::test]
async fn checked_in_schema_matches_the_server() {
    let server = TestServer::start().await;
    let sdl = orgraph::graphql::sdl(&orgraph::graphql::build_schema(server.state.clone()));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &sdl).expect("write schema.graphql");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == sdl,
        "schema.graphql differs from the server's SDL; regenerate it with `UPDATE_SCHEMA=1 cargo test schema`"
    );
}

/// The breaking changes from `old` to `new` (SDL files), by `@graphql-inspector/core`: each
/// change's path and message.
fn breaking_changes(old: &std::path::Path, new: &std::path::Path) -> Vec<(String, String)> {
    let dir = crate::federation::gateway_dir();
    let out = crate::sdk::run_node(&dir, "schema_diff.mjs", &[("OLD_SCHEMA", &old.display().to_string()), ("NEW_SCHEMA", &new.display().to_string())]);
    out["breaking"]
        .as_array()
        .expect("breaking")
        .iter()
        .map(|c| (c["path"].as_str().unwrap_or("").to_string(), c["message"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[test]
fn breaking_changes_to_the_released_schema_are_declared() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let released = root.join("tests/schema/released.graphql");
    let declared: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(root.join("tests/schema/breaking-changes.json")).expect("breaking-changes.json")).expect("a JSON list");
    let declared: Vec<&str> = declared.iter().filter_map(|d| d["path"].as_str()).collect();
    let undeclared: Vec<(String, String)> =
        breaking_changes(&released, &root.join("schema.graphql")).into_iter().filter(|(path, _)| !declared.contains(&path.as_str())).collect();
    assert!(
        undeclared.is_empty(),
        "schema.graphql breaks clients of the released schema; declare each change in tests/schema/breaking-changes.json (see tests/schema/README.md) or undo it: {undeclared:#?}"
    );

    // The guard sees a break: a field renamed is one removed.
    let dir = tempfile::tempdir().expect("tempdir");
    let renamed = dir.path().join("renamed.graphql");
    let sdl = std::fs::read_to_string(&released).expect("released schema");
    std::fs::write(&renamed, sdl.replace("\n  childNodes: [Node!]!\n", "\n  childNodesRenamed: [Node!]!\n")).expect("write");
    let found = breaking_changes(&released, &renamed);
    assert!(found.iter().any(|(path, _)| path == "Node.childNodes"), "{found:?}");
}

/// Every type, field, argument, input field and enum value of `schema.graphql` has a
/// description: the playground, codegen and the gateway show them to app developers.
#[test]
fn every_schema_element_is_described() {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let doc = async_graphql::parser::parse_schema(std::fs::read_to_string(path).expect("schema.graphql")).expect("schema.graphql parses");
    let mut missing = Vec::new();
    let mut note = |described: bool, what: String| {
        if !described {
            missing.push(what)
        }
    };
    for definition in &doc.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let ty = &ty.node;
        let name = ty.name.node.as_str();
        // Federation's own types (`_Service`, `_Entity`) are the spec's, described there.
        if name.starts_with('_') {
            continue;
        }
        note(ty.description.is_some(), name.to_string());
        let inputs = |fields: &[async_graphql::Positioned<async_graphql::parser::types::InputValueDefinition>], owner: &str, note: &mut dyn FnMut(bool, String)| {
            for input in fields {
                note(input.node.description.is_some(), format!("{owner}.{}", input.node.name.node));
            }
        };
        match &ty.kind {
            TypeKind::Object(object) => {
                for field in object.fields.iter().filter(|f| !f.node.name.node.starts_with('_')) {
                    let field_path = format!("{name}.{}", field.node.name.node);
                    note(field.node.description.is_some(), field_path.clone());
                    inputs(&field.node.arguments, &field_path, &mut note);
                }
            }
            TypeKind::Interface(interface) => {
                for field in &interface.fields {
                    let field_path = format!("{name}.{}", field.node.name.node);
                    note(field.node.description.is_some(), field_path.clone());
                    inputs(&field.node.arguments, &field_path, &mut note);
                }
            }
            TypeKind::InputObject(input) => inputs(&input.fields, name, &mut note),
            TypeKind::Enum(values) => {
                for value in &values.values {
                    note(value.node.description.is_some(), format!("{name}.{}", value.node.value.node));
                }
            }
            TypeKind::Scalar | TypeKind::Union(_) => {}
        }
    }
    assert!(missing.is_empty(), "{} schema elements have no description:\n{}", missing.len(), missing.join("\n"));
}
