//! Integration tests: each starts a real server on a loopback port over a fresh database and
//! talks to it over HTTP.

mod harness;

mod abuse;
mod acl;
mod auth;
mod docs;
mod graphql_over_http;
mod history;
mod connections;
mod cors;
mod deploy;
mod backup;
mod cli_flags;
mod events;
mod federation;
mod field_order;
mod isolation;
mod metrics;
mod live_stream;
mod operations;
mod orgs;
mod persisted_queries;
mod playground;
mod proxies;
mod rest_orgs;
mod round_trip;
mod schema;
mod scim;
mod seed_fields;
mod sdk;
mod sdk_variables;
mod sdk_py;
mod server;
mod shapes;
mod sse;
mod standard_webhooks;
mod subscriptions;
mod tenant_move;
mod tools;
mod tree_properties;
mod users;
mod v2_messages;
mod v3;
mod v3_events;
mod webhooks;
