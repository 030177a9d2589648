//! SCIM 2.0 provisioning, the rules part: which users and groups a SCIM client sees and how its
//! changes are made. Users are the pool's users; groups are the departments (non-root nodes) of
//! one organization per pool, the SCIM org, found by its code (`--scim-org-code`) and created on
//! first use. Every change goes through the same domain changes as GraphQL's (`users::update_in`,
//! `org_tree::add_node_in`, ...), several of them in one transaction when one SCIM request asks for
//! several, with the same events. The SCIM wire format (JSON, filters, PATCH) is the surface's
//! (`http::scim`); it hands this module plain changes and filters.

mod groups;
pub mod query;
pub mod tokens;
mod users;

pub use groups::{Group, GroupChange, GroupField};
pub(crate) use groups::{external_ids, set_external_id};
pub use users::UserField;

use entity::{node, org};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{PoolId, users::UserService, write::Writer};
use crate::error::AppResult;

/// Which slice of a filtered list: SCIM's 1-based `startIndex` and `count`, as offset and limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: u64,
    pub limit: u64,
}

/// One page of a SCIM list and the number of matches.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub total: u64,
    pub items: Vec<T>,
}

#[derive(Clone)]
pub struct ScimService {
    db: DatabaseConnection,
    writer: Writer,
    users: UserService,
    org_code: String,
}

impl ScimService {
    pub fn new(writer: Writer, users: UserService, org_code: String) -> Self {
        Self { db: writer.db().clone(), writer, users, org_code }
    }

    /// The code of the pools' SCIM org.
    pub fn org_code(&self) -> &str {
        &self.org_code
    }
}

/// The SCIM org of a pool, if it exists: the org whose root node has the configured code.
async fn find_scim_org(db: &impl ConnectionTrait, pool: &PoolId, code: &str) -> AppResult<Option<org::Model>> {
    let root = node::Entity::find()
        .filter(node::Column::UserPoolId.eq(pool.as_str()))
        .filter(node::Column::ParentId.is_null())
        .filter(node::Column::Code.eq(code))
        .one(db)
        .await?;
    match root {
        Some(root) => Ok(org::Entity::find_by_id(root.org_id).one(db).await?),
        None => Ok(None),
    }
}

/// Refuse a pool's second SCIM org being created by a concurrent first request (PostgreSQL, where
/// writers run at once; SQLite's writers queue): a transaction lock per pool, held to commit.
async fn lock_scim_org(db: &impl ConnectionTrait, pool: &PoolId) -> AppResult<()> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        crate::storage::sql::exec(db, "SELECT pg_advisory_xact_lock(hashtext($1))", vec![format!("orgraph-scim-org:{pool}").into()]).await?;
    }
    Ok(())
}
