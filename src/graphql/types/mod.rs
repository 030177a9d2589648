//! GraphQL object and input types, named and shaped as Authing's v2 schema has them.

pub mod acl;
pub mod common;
pub mod connection;
pub mod event;
pub mod history;
pub mod org;
pub mod node_fields;
pub mod org_nodes;
pub mod plain;
pub mod schedule;
pub mod scim;
pub mod user_input;
pub mod user_list;
pub mod webhook;
