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
