//! Reading a whole company as rows: the users of the pool (oldest first), the nodes of every
//! organization (oldest organization first, each breadth first), and the memberships in node
//! order. Every field a client can read comes out, so that an import gives it back: a node's
//! listed fields (`org_tree::fields`), its leaders in order, its organization's id and tenant,
//! times and ids; then the pool's event types, permissions and webhooks (their modules). Password
//! hashes and webhook secrets only when asked.

use std::collections::HashMap;

use entity::{membership, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value};

use super::{Company, CompanyService, Row, event_types, permissions, plan::object, scheduled, webhooks};
use crate::{
    domain::{
        PoolId,
        docs::{Iso, UserDoc, iso, to_json},
        org_tree::fields::{self, Names},
        scim,
    },
    error::AppResult,
};

/// Fields of the event document that are not the user's data.
const NOT_EXPORTED: &[&str] = &["userPoolId", "isRoot", "isDeleted"];

/// What an export includes beyond what a client can read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    /// The users' password hashes.
    pub with_password_hashes: bool,
    /// The webhooks' signing secrets.
    pub with_webhook_secrets: bool,
}

impl CompanyService {
    pub async fn export(&self, pool: &PoolId, options: ExportOptions) -> AppResult<Company> {
        let with_password_hashes = options.with_password_hashes;
        let db = self.writer.db();
        let mut company = Company::default();
        let users = user::Entity::find()
            .filter(user::Column::UserPoolId.eq(pool.as_str()))
            .order_by_asc(user::Column::CreatedAt)
            .order_by_asc(user::Column::Id)
            .all(db)
            .await?;
        for u in users {
            let hash = u.password_hash.clone();
            let Value::Object(mut fields) = to_json(&UserDoc::from(u)) else { continue };
            fields.retain(|k, v| !v.is_null() && !NOT_EXPORTED.contains(&k.as_str()));
            if let (true, Some(hash)) = (with_password_hashes, hash) {
                fields.insert("passwordHash".into(), Value::from(hash));
            }
            company.users.push(Row { at: String::new(), fields });
        }

        let scim_ids = scim::external_ids(db, pool).await?;
        let mut position: HashMap<String, usize> = HashMap::new();
        for org_id in self.orgs.org_ids(pool).await? {
            let org = self.orgs.org(pool, &org_id).await?;
            let nodes = self.orgs.nodes_of(&org).await?;
            let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
            let mut leaders = HashMap::new();
            for chunk in ids.chunks(1000) {
                leaders.extend(self.orgs.leaders_of(chunk).await?);
            }
            for n in nodes {
                position.insert(n.id.clone(), position.len());
                let leader_ids = leaders.remove(&n.id).filter(|l| !l.is_empty()).map(Value::from).unwrap_or(Value::Null);
                let root = n.parent_id.is_none();
                let mut fields: Map<String, Value> = object([
                    ("id", Value::from(n.id.as_str())),
                    ("orgId", Value::from(n.org_id.as_str())),
                    ("parentId", n.parent_id.as_deref().map(Value::from).unwrap_or(Value::Null)),
                ]);
                fields.extend(fields::to_json(&n, Names::Standard).into_iter().filter(|(_, v)| !v.is_null()));
                fields.extend(object([
                    ("leaderUserIds", leader_ids),
                    ("tenantId", org.tenant_id.clone().filter(|_| root).map(Value::from).unwrap_or(Value::Null)),
                    ("scimExternalId", scim_ids.get(&n.id).cloned().map(Value::from).unwrap_or(Value::Null)),
                    ("createdAt", Value::from(iso(n.created_at))),
                    ("updatedAt", Value::from(iso(n.updated_at))),
                ]));
                company.nodes.push(Row { at: String::new(), fields });
            }
        }

        let mut members = membership::Entity::find()
            .filter(membership::Column::UserPoolId.eq(pool.as_str()))
            .order_by_asc(membership::Column::JoinedAt)
            .order_by_asc(membership::Column::UserId)
            .all(db)
            .await?;
        members.sort_by_key(|m| position.get(&m.node_id).copied().unwrap_or(usize::MAX));
        for m in members {
            let fields = object([
                ("nodeId", Value::from(m.node_id)),
                ("userId", Value::from(m.user_id)),
                ("isLeader", Value::from(m.is_leader)),
                ("isMainDepartment", Value::from(m.is_main_department)),
                ("joinedAt", to_json(&Iso(m.joined_at))),
            ]);
            company.memberships.push(Row { at: String::new(), fields });
        }
        (company.event_apps, company.event_types) = event_types::export(db, pool).await?;
        (company.namespaces, company.resources, company.grants) = permissions::export(db, pool).await?;
        company.webhooks = webhooks::export(db, pool, options.with_webhook_secrets).await?;
        company.scheduled_changes = scheduled::export(db, pool).await?;
        Ok(company)
    }
}
