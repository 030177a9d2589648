//! Searching a pool's users (v3 `list-users`): keywords over the identifying fields, typed filters
//! on user fields, sort keys, a page. The whole search is one SQL statement (plus its count).

use entity::user;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::{UserService, parse_status};
use crate::{
    domain::{
        PoolId,
        pagination::{Page, Paginated},
        validate,
    },
    error::{AppError, AppResult},
    storage::sql,
};

/// Most values of one `IN` filter.
const MAX_IN_VALUES: usize = 1_000;
/// Most filters and sort keys of one search.
const MAX_TERMS: usize = 20;

/// A user field a search can filter or sort on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    Id,
    Username,
    Email,
    Phone,
    ExternalId,
    Name,
    Nickname,
    Company,
    Status,
    Gender,
    LoginsCount,
    LastLogin,
    CreatedAt,
    UpdatedAt,
}

/// The kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    Time,
}

impl UserField {
    pub fn parse(name: &str, value: &str) -> AppResult<Self> {
        Ok(match value {
            "id" | "userId" => Self::Id,
            "username" => Self::Username,
            "email" => Self::Email,
            "phone" => Self::Phone,
            "externalId" => Self::ExternalId,
            "name" => Self::Name,
            "nickname" => Self::Nickname,
            "company" => Self::Company,
            "status" => Self::Status,
            "gender" => Self::Gender,
            "loginsCount" => Self::LoginsCount,
            "lastLogin" => Self::LastLogin,
            "createdAt" => Self::CreatedAt,
            "updatedAt" => Self::UpdatedAt,
            _ => {
                return Err(AppError::invalid(
                    name,
                    format!(
                        "{name} {value:?} is not supported: use id, username, email, phone, externalId, name, nickname, company, \
                         status, gender, loginsCount, lastLogin, createdAt or updatedAt"
                    ),
                ));
            }
        })
    }

    fn column(self) -> user::Column {
        match self {
            Self::Id => user::Column::Id,
            Self::Username => user::Column::Username,
            Self::Email => user::Column::Email,
            Self::Phone => user::Column::Phone,
            Self::ExternalId => user::Column::ExternalId,
            Self::Name => user::Column::Name,
            Self::Nickname => user::Column::Nickname,
            Self::Company => user::Column::Company,
            Self::Status => user::Column::Status,
            Self::Gender => user::Column::Gender,
            Self::LoginsCount => user::Column::LoginsCount,
            Self::LastLogin => user::Column::LastLogin,
            Self::CreatedAt => user::Column::CreatedAt,
            Self::UpdatedAt => user::Column::UpdatedAt,
        }
    }

    fn kind(self) -> Kind {
        match self {
            Self::LoginsCount => Kind::Number,
            Self::LastLogin | Self::CreatedAt | Self::UpdatedAt => Kind::Time,
            _ => Kind::Text,
        }
    }
}

/// A comparison operator of a filter, as the v3 API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equal,
    NotEqual,
    Contains,
    NotContains,
    In,
    Greater,
    Lesser,
    Between,
    IsNull,
    NotNull,
}

impl Operator {
    pub fn parse(value: &str) -> AppResult<Self> {
        Ok(match value.to_ascii_uppercase().as_str() {
            "EQUAL" => Self::Equal,
            "NOT_EQUAL" => Self::NotEqual,
            "CONTAINS" => Self::Contains,
            "NOT_CONTAINS" => Self::NotContains,
            "IN" => Self::In,
            "GREATER" => Self::Greater,
            "LESSER" => Self::Lesser,
            "BETWEEN" => Self::Between,
            "IS_NULL" => Self::IsNull,
            "NOT_NULL" => Self::NotNull,
            other => {
                return Err(AppError::invalid(
                    "advancedFilter.operator",
                    format!("operator {other:?} is not one of EQUAL, NOT_EQUAL, CONTAINS, NOT_CONTAINS, IN, GREATER, LESSER, BETWEEN, IS_NULL, NOT_NULL"),
                ));
            }
        })
    }
}

/// One filter: field, operator, value as sent (typed when the search is built).
#[derive(Debug, Clone)]
pub struct UserFilter {
    pub field: UserField,
    pub operator: Operator,
    pub value: Option<Value>,
}

/// A search of a pool's users.
#[derive(Debug, Clone)]
pub struct UserSearch {
    pub keywords: Option<String>,
    /// The fields keywords are looked for in; empty = username, email, phone, name, nickname,
    /// externalId.
    pub fuzzy_on: Vec<UserField>,
    pub filters: Vec<UserFilter>,
    /// Sort keys in order (`true` = ascending); ties by newest, then id.
    pub sort: Vec<(UserField, bool)>,
    pub page: Page,
}

/// A filter value of the field's kind.
fn typed(field: UserField, v: &Value) -> AppResult<sea_orm::Value> {
    let bad = |want: &str| AppError::invalid("advancedFilter.value", format!("{field:?} takes {want}, got {v}"));
    match field.kind() {
        Kind::Number => v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).map(Into::into).ok_or_else(|| bad("a number")),
        Kind::Time => {
            let ms = v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
            let at = match ms {
                Some(ms) => chrono::DateTime::from_timestamp_millis(ms),
                None => v.as_str().and_then(|s| validate::timestamp("advancedFilter.value", s).ok().flatten()),
            };
            at.map(Into::into).ok_or_else(|| bad("a time (milliseconds since 1970 or ISO 8601)"))
        }
        Kind::Text => {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(bad("a string")),
            };
            if field == UserField::Status {
                parse_status("advancedFilter.value", &text)?;
            }
            if field == UserField::Email { Ok(text.to_lowercase().into()) } else { Ok(text.into()) }
        }
    }
}

fn condition(f: &UserFilter) -> AppResult<Condition> {
    let column = f.field.column();
    let value = || f.value.as_ref().ok_or_else(|| AppError::invalid("advancedFilter.value", format!("{:?} needs a value", f.operator)));
    let like = |negate: bool| -> AppResult<Condition> {
        let text = value()?.as_str().ok_or_else(|| AppError::invalid("advancedFilter.value", "CONTAINS takes a string"))?;
        Ok(Condition::all().add(sql::contains_ignoring_case(column, text, negate)))
    };
    Ok(match f.operator {
        Operator::Equal => Condition::all().add(column.eq(typed(f.field, value()?)?)),
        Operator::NotEqual => Condition::any().add(column.ne(typed(f.field, value()?)?)).add(column.is_null()),
        Operator::Contains | Operator::NotContains if f.field.kind() != Kind::Text => {
            return Err(AppError::invalid("advancedFilter.operator", "CONTAINS applies to text fields"));
        }
        Operator::Contains => like(false)?,
        Operator::NotContains => like(true)?,
        Operator::In => {
            let items = value()?.as_array().ok_or_else(|| AppError::invalid("advancedFilter.value", "IN takes a list"))?;
            if items.len() > MAX_IN_VALUES {
                return Err(AppError::invalid("advancedFilter.value", format!("IN takes at most {MAX_IN_VALUES} values")));
            }
            let values = items.iter().map(|v| typed(f.field, v)).collect::<AppResult<Vec<_>>>()?;
            Condition::all().add(column.is_in(values))
        }
        Operator::Greater => Condition::all().add(column.gte(typed(f.field, value()?)?)),
        Operator::Lesser => Condition::all().add(column.lte(typed(f.field, value()?)?)),
        Operator::Between => match value()?.as_array().map(Vec::as_slice) {
            Some([a, b]) => Condition::all().add(column.gte(typed(f.field, a)?)).add(column.lte(typed(f.field, b)?)),
            _ => return Err(AppError::invalid("advancedFilter.value", "BETWEEN takes a list of two values")),
        },
        Operator::IsNull => Condition::all().add(column.is_null()),
        Operator::NotNull => Condition::all().add(column.is_not_null()),
    })
}

impl UserService {
    /// One page of the pool's users that match `search`, with the number of all that match.
    pub async fn search(&self, pool: &PoolId, search: &UserSearch) -> AppResult<Paginated<user::Model>> {
        if search.filters.len() > MAX_TERMS || search.sort.len() > MAX_TERMS {
            return Err(AppError::invalid("advancedFilter", format!("at most {MAX_TERMS} filters and {MAX_TERMS} sort keys")));
        }
        let mut q = user::Entity::find().filter(user::Column::UserPoolId.eq(pool.as_str()));
        if let Some(k) = search.keywords.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            if k.chars().count() > validate::MAX_TEXT {
                return Err(AppError::invalid("keywords", format!("keywords must have at most {} characters", validate::MAX_TEXT)));
            }
            let default = [UserField::Username, UserField::Email, UserField::Phone, UserField::Name, UserField::Nickname, UserField::ExternalId];
            let fields = if search.fuzzy_on.is_empty() { &default[..] } else { &search.fuzzy_on[..] };
            let mut any = Condition::any();
            for f in fields.iter().filter(|f| f.kind() == Kind::Text) {
                any = any.add(sql::contains_ignoring_case(f.column(), k, false));
            }
            q = q.filter(any);
        }
        for f in &search.filters {
            q = q.filter(condition(f)?);
        }
        let total_count = q.clone().count(&self.db).await?;
        for (field, ascending) in &search.sort {
            q = if *ascending { q.order_by_asc(field.column()) } else { q.order_by_desc(field.column()) };
        }
        let list = q
            .order_by_desc(user::Column::CreatedAt)
            .order_by_desc(user::Column::Id)
            .offset(search.page.offset())
            .limit(search.page.limit)
            .all(&self.db)
            .await?;
        Ok(Paginated { total_count, list })
    }
}
