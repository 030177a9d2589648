//! The org chart through time: versions of orgs, departments, memberships and leaders, opened
//! and closed by triggers (`triggers`) and stamped with the commit's time and actor (`stamp`).

pub mod as_of;
pub mod stamp;
pub mod triggers;
pub mod versions;
