//! SCIM users: the pool's users, listed by filter in SQL, and changed through `UserService`'s
//! rules inside one transaction that also reads the state a PATCH applies to.

use entity::user;
use sea_orm::DatabaseBackend;

use super::{
    Listed, ScimService, Window,
    query::{Field, Filter, Kind, compile},
};
use crate::{
    domain::{
        PoolId,
        users::{CreateOptions, UserPatch, find_in_pool, update_in},
        write::ChangeError,
    },
    error::{AppError, AppResult},
    storage::sql,
};

/// The user fields a SCIM filter can name (the surface maps SCIM attribute paths onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    Id,
    Username,
    ExternalId,
    Email,
    Phone,
    Name,
    Nickname,
    GivenName,
    FamilyName,
    MiddleName,
    Active,
    CreatedAt,
    UpdatedAt,
    /// A key of the custom data (SCIM attributes orgraph keeps there, e.g. `employeeNumber`).
    Custom(&'static str),
}

impl Field for UserField {
    fn sql(self, backend: DatabaseBackend) -> String {
        let col = match self {
            UserField::Id => "id",
            UserField::Username => "username",
            UserField::ExternalId => "external_id",
            UserField::Email => "email",
            UserField::Phone => "phone",
            UserField::Name => "name",
            UserField::Nickname => "nickname",
            UserField::GivenName => "given_name",
            UserField::FamilyName => "family_name",
            UserField::MiddleName => "middle_name",
            UserField::Active => "status",
            UserField::CreatedAt => "created_at",
            UserField::UpdatedAt => "updated_at",
            UserField::Custom(key) => {
                // The keys are the surface's constants; anything else could not be quoted safely.
                if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return "NULL".into();
                }
                return match backend {
                    DatabaseBackend::Postgres => format!("(users.custom_data ->> '{key}')"),
                    _ => format!("json_extract(users.custom_data, '$.{key}')"),
                };
            }
        };
        format!("users.{col}")
    }

    fn kind(self) -> Kind {
        match self {
            UserField::Id | UserField::ExternalId => Kind::ExactText,
            UserField::Active => Kind::Active,
            UserField::CreatedAt | UserField::UpdatedAt => Kind::Time,
            _ => Kind::Text,
        }
    }
}

impl ScimService {
    /// The pool's users matching `filter` (all when `None`), oldest first: SCIM clients page with
    /// `startIndex` and expect the same order every time.
    pub async fn find_users(&self, pool: &PoolId, filter: Option<&Filter<UserField>>, window: Window) -> AppResult<Listed<user::Model>> {
        let backend = self.db.get_database_backend();
        let (cond, mut values) = match filter {
            Some(f) => {
                let c = compile(f, backend, 2)?;
                (c.sql, c.values)
            }
            None => ("(1 = 1)".to_string(), Vec::new()),
        };
        values.insert(0, pool.as_str().into());
        let where_ = format!("FROM users WHERE users.user_pool_id = $1 AND {cond}");
        let total = crate::storage::sql::count(&self.db, &format!("SELECT COUNT(*) AS n {where_}"), values.clone()).await?;
        if window.limit == 0 || window.offset >= total {
            return Ok(Listed { total, items: Vec::new() });
        }
        let n = values.len();
        values.push((window.limit as i64).into());
        values.push((window.offset as i64).into());
        let items = sql::all::<user::Model>(
            &self.db,
            &format!("SELECT users.* {where_} ORDER BY users.created_at, users.id LIMIT ${} OFFSET ${}", n + 1, n + 2),
            values,
        )
        .await?;
        Ok(Listed { total, items })
    }

    pub async fn user(&self, pool: &PoolId, id: &str) -> AppResult<user::Model> {
        self.users.get(pool, id).await
    }

    pub async fn create_user(&self, pool: &PoolId, patch: UserPatch) -> AppResult<user::Model> {
        self.users.create(pool, patch, CreateOptions::default()).await
    }

    /// Change a user with the patch `change` makes from its current row, read in the same
    /// transaction (a PATCH applies to what is there, an `If-Match` compares with it, and no
    /// concurrent change slips in between).
    pub async fn modify_user<R>(
        &self,
        pool: &PoolId,
        id: &str,
        change: impl FnOnce(&user::Model) -> Result<UserPatch, R>,
    ) -> Result<user::Model, ChangeError<R>> {
        self.writer
            .write_declinable(pool, async |txn, outbox| {
                let current = find_in_pool(txn, pool, id).await?.ok_or_else(|| AppError::not_found("user", id))?;
                let patch = change(&current).map_err(ChangeError::Declined)?;
                Ok(update_in(txn, outbox, pool, current, patch, None).await?)
            })
            .await
    }

    pub async fn delete_user(&self, pool: &PoolId, id: &str) -> AppResult<()> {
        self.users.delete(pool, id).await
    }
}
