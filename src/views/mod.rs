//! Views shared by the surfaces: how users look on the wire in Authing's v2 API and GenAuth's v3
//! API, for GraphQL (derived object types) and REST (serde) alike. Mapping only: no rules here.

pub mod user;
pub mod v3;
