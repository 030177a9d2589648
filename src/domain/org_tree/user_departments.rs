//! A user's departments, seen from the user: the page of them (v3 `get-user-departments`) and
//! replacing them all at once (v3 `set-user-departments`).

use entity::membership;
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter};
use serde_json::json;

use super::{OrgService, UserDepartment, add_members_in, find_node, remove_members_in};
use crate::{
    domain::{
        PoolId,
        docs::UserDoc,
        events::DomainEvent,
        pagination::{Page, Paginated},
        users::{UserIdType, find_one_by},
    },
    error::{AppError, AppResult},
    storage::sql,
};

/// Most departments one user may be set to at once.
pub const MAX_USER_DEPARTMENTS: usize = 200;

/// One department of `set-user-departments`.
#[derive(Debug, Clone)]
pub struct DepartmentAssignment {
    pub department_id: String,
    pub is_leader: bool,
    pub is_main: bool,
}

/// Sort keys of a user's departments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserDepartmentSort {
    DepartmentCreatedAt,
    #[default]
    JoinDepartmentAt,
    DepartmentName,
    DepartmentCode,
}

impl UserDepartmentSort {
    pub fn parse(value: &str) -> AppResult<Self> {
        match value.to_ascii_lowercase().as_str() {
            "departmentcreatedat" => Ok(Self::DepartmentCreatedAt),
            "joindepartmentat" => Ok(Self::JoinDepartmentAt),
            "departmentname" => Ok(Self::DepartmentName),
            // The SDK spells it `DepartmemtCode`.
            "departmentcode" | "departmemtcode" => Ok(Self::DepartmentCode),
            _ => Err(AppError::invalid(
                "sortBy",
                "sortBy must be DepartmentCreatedAt, JoinDepartmentAt, DepartmentName or DepartmentCode",
            )),
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::DepartmentCreatedAt => "n.created_at",
            Self::JoinDepartmentAt => "m.joined_at",
            Self::DepartmentName => "n.name",
            Self::DepartmentCode => "n.code",
        }
    }
}

#[derive(FromQueryResult)]
struct MembershipRow {
    node_id: String,
    is_leader: bool,
    is_main_department: bool,
    joined_at: chrono::DateTime<chrono::Utc>,
}

impl OrgService {
    /// A page of the departments of the user `user` names (as `id_type` says).
    pub async fn user_departments_page(
        &self,
        pool: &PoolId,
        id_type: UserIdType,
        user: &str,
        page: Page,
        sort: UserDepartmentSort,
        ascending: bool,
    ) -> AppResult<Paginated<UserDepartment>> {
        let user = find_one_by(&self.db, pool, id_type, user).await?;
        let total_count = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user.id.as_str()))
            .count(&self.db)
            .await?;
        let direction = if ascending { "ASC" } else { "DESC" };
        let rows = sql::all::<MembershipRow>(
            &self.db,
            &format!(
                "SELECT m.node_id, m.is_leader, m.is_main_department, m.joined_at
                 FROM membership m JOIN node n ON n.id = m.node_id
                 WHERE m.user_id = $1
                 ORDER BY {} {direction}, m.node_id LIMIT $2 OFFSET $3",
                sort.column()
            ),
            vec![user.id.clone().into(), (page.limit as i64).into(), (page.offset() as i64).into()],
        )
        .await?;
        let ids: Vec<String> = rows.iter().map(|r| r.node_id.clone()).collect();
        let nodes = self.nodes_by_ids(&ids).await?;
        let list = rows
            .into_iter()
            .filter_map(|r| {
                let node = nodes.iter().find(|n| n.id == r.node_id)?.clone();
                Some(UserDepartment { node, is_main: r.is_main_department, is_leader: r.is_leader, joined_at: r.joined_at })
            })
            .collect();
        Ok(Paginated { total_count, list })
    }

    /// Make `departments` the user's departments (of every org of the pool): leave the others,
    /// join the new ones, set each one's leader flag, and make the one marked main (at most one)
    /// the main department. One transaction.
    pub async fn set_user_departments(&self, pool: &PoolId, id_type: UserIdType, user: &str, departments: Vec<DepartmentAssignment>) -> AppResult<()> {
        if departments.len() > MAX_USER_DEPARTMENTS {
            return Err(AppError::invalid("departments", format!("at most {MAX_USER_DEPARTMENTS} departments per user")));
        }
        let mut wanted: Vec<DepartmentAssignment> = Vec::new();
        for d in departments {
            let id = d.department_id.trim().to_string();
            if id.is_empty() {
                return Err(AppError::invalid("departments", "each department needs a departmentId"));
            }
            if wanted.iter().any(|w| w.department_id == id) {
                return Err(AppError::invalid("departments", format!("department {id} is listed twice")));
            }
            wanted.push(DepartmentAssignment { department_id: id, ..d });
        }
        if wanted.iter().filter(|d| d.is_main).count() > 1 {
            return Err(AppError::invalid("departments", "at most one department can be the main department"));
        }
        self.writer
            .write(pool, async |txn, outbox| {
                let user = find_one_by(txn, pool, id_type, user).await?;
                let uid = std::slice::from_ref(&user.id);
                for d in &wanted {
                    find_node(txn, pool, &d.department_id).await?;
                }
                let current = membership::Entity::find().filter(membership::Column::UserId.eq(user.id.as_str())).all(txn).await?;
                let main_before = current.iter().find(|m| m.is_main_department).map(|m| m.node_id.clone());
                for m in current.iter().filter(|m| !wanted.iter().any(|w| w.department_id == m.node_id)) {
                    remove_members_in(txn, outbox, pool, &m.node_id, uid).await?;
                }
                for d in &wanted {
                    match current.iter().find(|m| m.node_id == d.department_id) {
                        None => {
                            add_members_in(txn, outbox, pool, &d.department_id, uid, Some(d.is_leader)).await?;
                        }
                        Some(m) if m.is_leader != d.is_leader => {
                            membership::Entity::update_many()
                                .col_expr(membership::Column::IsLeader, d.is_leader.into())
                                .filter(membership::Column::NodeId.eq(d.department_id.as_str()))
                                .filter(membership::Column::UserId.eq(user.id.as_str()))
                                .exec(txn)
                                .await?;
                        }
                        Some(_) => {}
                    }
                }
                let main = wanted.iter().find(|d| d.is_main).map(|d| d.department_id.clone());
                membership::Entity::update_many()
                    .col_expr(membership::Column::IsMainDepartment, false.into())
                    .filter(membership::Column::UserId.eq(user.id.as_str()))
                    .exec(txn)
                    .await?;
                if let Some(main) = &main {
                    membership::Entity::update_many()
                        .col_expr(membership::Column::IsMainDepartment, true.into())
                        .filter(membership::Column::UserId.eq(user.id.as_str()))
                        .filter(membership::Column::NodeId.eq(main.as_str()))
                        .exec(txn)
                        .await?;
                }
                if main != main_before {
                    outbox.record(DomainEvent::UserUpdated { user: UserDoc::from(user), updates: json!({ "mainDepartmentId": main }) });
                }
                Ok(())
            })
            .await
    }
}
