#![recursion_limit = "256"] // serde_json::json! of the 50-field user document
//! orgraph: a GraphQL server for organization management, wire-compatible with Authing's org API.
//!
//! Layers, outermost first: `http` (routes, envelopes, auth headers) and `graphql` (types and thin
//! resolvers) call `domain` (the rules), which uses `storage` (sea-orm) and `security`.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod metrics;
pub mod reference_docs;
pub mod security;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod tools;
pub mod views;
