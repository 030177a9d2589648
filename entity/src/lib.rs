//! sea-orm entities: one module per table. No GraphQL here; the API maps these into its own types.

pub mod acl_grant;
pub mod acl_resource;
pub mod delivery;
pub mod delivery_attempt;
pub mod event;
pub mod event_app;
pub mod event_definition;
pub mod membership;
pub mod node;
pub mod node_closure;
pub mod node_leader;
pub mod org;
pub mod resource_namespace;
pub mod scheduled_change;
pub mod scim_group;
pub mod scim_token;
pub mod server_key;
pub mod user;
pub mod user_pool;
pub mod webhook;
