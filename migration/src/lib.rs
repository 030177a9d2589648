//! Database schema of orgraph, one migration per step. The server applies pending migrations at
//! start; `orgraph migrate status|up|down` runs them by hand.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_foundation;
mod m20261123_000002_org_tree;
mod m20261123_000003_events;
mod m20261123_000004_webhooks;
mod m20261124_000005_event_seq;
mod m20261124_000006_acl;
mod m20261124_000007_v3;
mod m20261124_000008_scim;
mod m20261124_000009_lean_fanout;
mod m20261124_000010_org_tree_revision;
mod m20261125_000011_token_epoch;
mod m20261205_000012_no_fanout;
mod m20261205_000013_versions;
mod m20261205_000014_scheduled_changes;
mod m20261205_000015_delivery_order;
mod m20261205_000016_subtree_scope;
mod m20261205_000017_idempotency_keys;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261123_000002_org_tree::Migration),
            Box::new(m20261123_000003_events::Migration),
            Box::new(m20261123_000004_webhooks::Migration),
            Box::new(m20261124_000005_event_seq::Migration),
            Box::new(m20261124_000006_acl::Migration),
            Box::new(m20261124_000007_v3::Migration),
            Box::new(m20261124_000008_scim::Migration),
            Box::new(m20261124_000009_lean_fanout::Migration),
            Box::new(m20261124_000010_org_tree_revision::Migration),
            Box::new(m20261125_000011_token_epoch::Migration),
            Box::new(m20261205_000012_no_fanout::Migration),
            Box::new(m20261205_000013_versions::Migration),
            Box::new(m20261205_000014_scheduled_changes::Migration),
            Box::new(m20261205_000015_delivery_order::Migration),
            Box::new(m20261205_000016_subtree_scope::Migration),
            Box::new(m20261205_000017_idempotency_keys::Migration),
        ]
    }
}

/// Run `sql` (statements separated by `;`) in one call, so on one connection (the migrator
/// holds a pool, and another SQLite connection may not see a table just renamed), all or none:
/// inside a savepoint, rolled back when a statement fails.
pub(crate) async fn run_batch(db: &SchemaManagerConnection<'_>, name: &str, sql: &str) -> Result<(), DbErr> {
    let result = db.execute_unprepared(&format!("SAVEPOINT {name};\n{sql};\nRELEASE {name}")).await;
    if let Err(err) = result {
        let _ = db.execute_unprepared(&format!("ROLLBACK TO {name}; RELEASE {name}")).await;
        return Err(err);
    }
    Ok(())
}
