//! sea-orm entities: one module per table. No GraphQL here; the API maps these into its own types.

pub mod server_key;
pub mod user;
pub mod user_pool;
