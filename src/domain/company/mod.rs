//! A whole company of a pool (its org trees, users, memberships, main departments and leaders)
//! as rows, for `orgraph import` and `orgraph export`. The rows are the same in JSON and CSV
//! (`tools::files` reads and writes them); this module checks them with the domain's own rules
//! (`NodeInput`, `users::imported_row`, the tree's depth and code rules) and writes them in
//! bounded transactions through the domain's in-transaction halves (`create_org_in`,
//! `add_node_in`, `update_node_in`, `add_members_in`), so the closure, fan-out and counts are
//! kept as by any other change.

mod export;
mod import;
mod plan;

pub use import::{ImportOptions, Progress, Summary};
pub use plan::{Plan, Refusal};

use serde_json::{Map, Value};

use crate::domain::{
    org_tree::{OrgService, fields::FIELDS},
    users::profile::PROFILE_FIELDS,
    write::Writer,
};

/// Node columns before and after the department's listed fields (`org_tree::fields`). A row
/// without `parentId` is the root of an organization; `orgId` and `tenantId` are the
/// organization's.
const NODE_HEAD: &[&str] = &["id", "orgId", "parentId"];
const NODE_TAIL: &[&str] = &["leaderUserIds", "tenantId", "createdAt", "updatedAt"];

/// Node columns: place in the tree, every listed field, leaders (in order), times.
pub fn node_columns() -> Vec<&'static str> {
    NODE_HEAD.iter().copied().chain(FIELDS.iter().map(|f| f.name)).chain(NODE_TAIL.iter().copied()).collect()
}

/// Membership columns.
pub const MEMBERSHIP_COLUMNS: &[&str] = &["nodeId", "userId", "isLeader", "isMainDepartment", "joinedAt"];

/// User columns before and after the profile fields.
const USER_HEAD: &[&str] = &["id", "username", "email", "phone", "externalId"];
const USER_TAIL: &[&str] = &[
    "gender", "status", "emailVerified", "phoneVerified", "blocked", "loginsCount", "lastLogin", "signedUp",
    "registerSource", "customData", "createdAt", "updatedAt", "passwordHash",
];

/// User columns: identifiers, the profile fields (`users::profile`), the rest.
pub fn user_columns() -> Vec<&'static str> {
    USER_HEAD.iter().chain(PROFILE_FIELDS).chain(USER_TAIL).copied().collect()
}

/// One row as read from a file, with where it was (`users.csv:12`, `/users/11`).
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub at: String,
    pub fields: Map<String, Value>,
}

/// The three tables of a company.
#[derive(Debug, Clone, Default)]
pub struct Company {
    pub nodes: Vec<Row>,
    pub users: Vec<Row>,
    pub memberships: Vec<Row>,
}

impl Company {
    pub fn rows(&self) -> usize {
        self.nodes.len() + self.users.len() + self.memberships.len()
    }
}

/// Import and export of whole companies.
#[derive(Clone)]
pub struct CompanyService {
    writer: Writer,
    orgs: OrgService,
}

impl CompanyService {
    pub fn new(writer: Writer, orgs: OrgService) -> Self {
        CompanyService { writer, orgs }
    }
}
