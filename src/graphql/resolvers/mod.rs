//! Resolvers, one module per area. They read arguments, find the caller's pool and call a
//! domain service; the rules live in `crate::domain`.

pub mod acl;
pub mod auth;
pub mod entities;
pub mod events;
pub mod members;
pub mod nodes;
pub mod orgs;
pub mod schedule;
pub mod scim;
pub mod subscriptions;
pub mod users;
pub mod webhooks;
