//! A whole company of a pool (its org trees, users, memberships, main departments and leaders,
//! and the pool's permissions, webhooks and custom event types) as rows, for `orgraph import`
//! and `orgraph export`. The rows are the same in JSON and CSV
//! (`tools::files` reads and writes them); this module checks them with the domain's own rules
//! (`NodeInput`, `users::imported_row`, the tree's depth and code rules) and writes them in
//! bounded, set-based transactions (`import`): organizations through `create_org_with_root_in`,
//! the other nodes as `new_node_row` makes them with their closure rows, memberships in
//! multi-row inserts, the counts recounted at the end. The pool's other state is carried by `permissions`,
//! `webhooks` and `event_types`, each through its own domain's checks and in-transaction halves.

mod event_types;
mod export;
mod import;
mod kept;
mod permissions;
mod plan;
mod scheduled;
mod webhooks;

pub use event_types::{EVENT_APP_COLUMNS, EVENT_TYPE_COLUMNS};
pub use export::ExportOptions;
pub use import::{Counts, ImportOptions, NewSecret, Progress, Summary};
pub use permissions::{GRANT_COLUMNS, NAMESPACE_COLUMNS, RESOURCE_COLUMNS};
pub use plan::{Plan, Refusal, Refused};
pub use scheduled::SCHEDULED_COLUMNS;
pub use webhooks::WEBHOOK_COLUMNS;

use serde_json::{Map, Value};

use crate::{
    domain::{
        org_tree::{OrgService, fields::FIELDS},
        users::profile::PROFILE_FIELDS,
        write::Writer,
    },
    error::AppResult,
};

/// Node columns before and after the department's listed fields (`org_tree::fields`). A row
/// without `parentId` is the root of an organization; `orgId` and `tenantId` are the
/// organization's; `scimExternalId` is the `externalId` a SCIM client gave the department as a
/// group.
const NODE_HEAD: &[&str] = &["id", "orgId", "parentId"];
const NODE_TAIL: &[&str] = &["leaderUserIds", "tenantId", "scimExternalId", "createdAt", "updatedAt"];

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

/// The tables of a company.
#[derive(Debug, Clone, Default)]
pub struct Company {
    pub nodes: Vec<Row>,
    pub users: Vec<Row>,
    pub memberships: Vec<Row>,
    pub event_apps: Vec<Row>,
    pub event_types: Vec<Row>,
    pub namespaces: Vec<Row>,
    pub resources: Vec<Row>,
    pub grants: Vec<Row>,
    pub webhooks: Vec<Row>,
    pub scheduled_changes: Vec<Row>,
}

/// A table of a company file: its name in JSON, its file in a CSV folder, its columns.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub file: &'static str,
    pub columns: fn() -> Vec<&'static str>,
}

/// Every table, in the order of [`Company::tables`].
pub const TABLES: [Table; 10] = [
    Table { name: "nodes", file: "nodes.csv", columns: node_columns },
    Table { name: "users", file: "users.csv", columns: user_columns },
    Table { name: "memberships", file: "memberships.csv", columns: || MEMBERSHIP_COLUMNS.to_vec() },
    Table { name: "eventApps", file: "event_apps.csv", columns: || EVENT_APP_COLUMNS.to_vec() },
    Table { name: "eventTypes", file: "event_types.csv", columns: || EVENT_TYPE_COLUMNS.to_vec() },
    Table { name: "aclNamespaces", file: "acl_namespaces.csv", columns: || NAMESPACE_COLUMNS.to_vec() },
    Table { name: "aclResources", file: "acl_resources.csv", columns: || RESOURCE_COLUMNS.to_vec() },
    Table { name: "aclGrants", file: "acl_grants.csv", columns: || GRANT_COLUMNS.to_vec() },
    Table { name: "webhooks", file: "webhooks.csv", columns: || WEBHOOK_COLUMNS.to_vec() },
    Table { name: "scheduledChanges", file: "scheduled_changes.csv", columns: || SCHEDULED_COLUMNS.to_vec() },
];

impl Company {
    pub fn rows(&self) -> usize {
        self.tables().iter().map(|t| t.len()).sum()
    }

    /// The tables in the order of [`TABLES`].
    pub fn tables(&self) -> [&Vec<Row>; 10] {
        [
            &self.nodes, &self.users, &self.memberships, &self.event_apps, &self.event_types, &self.namespaces, &self.resources, &self.grants,
            &self.webhooks, &self.scheduled_changes,
        ]
    }

    pub fn tables_mut(&mut self) -> [&mut Vec<Row>; 10] {
        [
            &mut self.nodes, &mut self.users, &mut self.memberships, &mut self.event_apps, &mut self.event_types,
            &mut self.namespaces, &mut self.resources, &mut self.grants, &mut self.webhooks, &mut self.scheduled_changes,
        ]
    }
}

/// Where an import's rows come from. An import reads them twice, once to check every row and
/// once to write them, keeping in between only the ids of the file (and its nodes): a CSV
/// folder is read row by row (`tools::files`), so a large company is never held in memory; a
/// [`Company`] (a JSON file, a REST tree) gives its rows from memory.
pub trait Source: Send + Sync {
    /// The rows of `table` (one of [`TABLES`]), in file order; an unreadable row is an error.
    fn rows(&self, table: &Table) -> AppResult<Rows<'_>>;
}

pub type Rows<'a> = Box<dyn Iterator<Item = AppResult<Row>> + Send + 'a>;

impl Source for Company {
    fn rows(&self, table: &Table) -> AppResult<Rows<'_>> {
        let rows = TABLES.iter().zip(self.tables()).find(|(t, _)| t.name == table.name).map_or(&[][..], |(_, rows)| rows.as_slice());
        Ok(Box::new(rows.iter().cloned().map(Ok)))
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
