//! Reading a whole company as rows: the users of the pool (oldest first), the nodes of every
//! organization (oldest organization first, each breadth first), and the memberships in node
//! order. Password hashes only when asked.

use std::collections::HashMap;

use entity::{membership, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use super::{Company, CompanyService, Row, plan::object};
use crate::{
    domain::{PoolId, docs::{UserDoc, to_json}},
    error::AppResult,
};

/// Fields of the event document that are not the user's data.
const NOT_EXPORTED: &[&str] = &["userPoolId", "isRoot", "isDeleted"];

impl CompanyService {
    pub async fn export(&self, pool: &PoolId, with_password_hashes: bool) -> AppResult<Company> {
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

        let mut position: HashMap<String, usize> = HashMap::new();
        for org_id in self.orgs.org_ids(pool).await? {
            let nodes = self.orgs.org_nodes(pool, &org_id).await?;
            let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
            let mut leaders = HashMap::new();
            for chunk in ids.chunks(1000) {
                leaders.extend(self.orgs.leaders_of(chunk).await?);
            }
            for n in nodes {
                position.insert(n.id.clone(), position.len());
                let leader_ids = leaders.remove(&n.id).filter(|l| !l.is_empty()).map(Value::from).unwrap_or(Value::Null);
                let fields = object([
                    ("id", Value::from(n.id)),
                    ("parentId", n.parent_id.map(Value::from).unwrap_or(Value::Null)),
                    ("code", n.code.map(Value::from).unwrap_or(Value::Null)),
                    ("name", Value::from(n.name)),
                    ("description", n.description.map(Value::from).unwrap_or(Value::Null)),
                    ("order", n.order.map(Value::from).unwrap_or(Value::Null)),
                    ("nameI18n", n.name_i18n.map(Value::from).unwrap_or(Value::Null)),
                    ("descriptionI18n", n.description_i18n.map(Value::from).unwrap_or(Value::Null)),
                    ("leaderUserIds", leader_ids),
                ]);
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
            ]);
            company.memberships.push(Row { at: String::new(), fields });
        }
        Ok(company)
    }
}
