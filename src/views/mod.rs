//! Views shared by the surfaces: how users look on the wire in Authing's v2 API and GenAuth's v3
//! API, for GraphQL (derived object types) and REST (serde) alike, and how v3 calls name
//! departments and users (`v3_names`). Mapping only: no rules here.

pub mod user;
pub mod v3;
pub mod v3_names;
