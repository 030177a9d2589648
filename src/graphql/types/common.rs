use async_graphql::{Enum, SimpleObject};

use crate::{domain::pagination::TimestampOrder, security::tokens::IssuedToken};

/// Answer of a mutation that returns nothing else. `code` is 200 on success.
#[derive(SimpleObject, Debug, Clone)]
pub struct CommonMessage {
    pub message: Option<String>,
    pub code: Option<i32>,
}

impl CommonMessage {
    pub fn ok(message: impl Into<String>) -> Self {
        Self { message: Some(message.into()), code: Some(200) }
    }
}

/// A management access token; `exp` and `iat` are Unix seconds.
#[derive(SimpleObject, Debug, Clone)]
pub struct AccessTokenRes {
    pub access_token: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
}

/// The same, as `refreshAccessToken` returns it.
#[derive(SimpleObject, Debug, Clone)]
pub struct RefreshAccessTokenRes {
    pub access_token: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
}

impl From<IssuedToken> for AccessTokenRes {
    fn from(t: IssuedToken) -> Self {
        Self { access_token: Some(t.token), exp: Some(t.exp), iat: Some(t.iat) }
    }
}

impl From<IssuedToken> for RefreshAccessTokenRes {
    fn from(t: IssuedToken) -> Self {
        Self { access_token: Some(t.token), exp: Some(t.exp), iat: Some(t.iat) }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum SortByEnum {
    /// Newest first.
    #[default]
    #[graphql(name = "CREATEDAT_DESC")]
    CreatedAtDesc,
    /// Oldest first.
    #[graphql(name = "CREATEDAT_ASC")]
    CreatedAtAsc,
    /// Most recently updated first.
    #[graphql(name = "UPDATEDAT_DESC")]
    UpdatedAtDesc,
    /// Least recently updated first.
    #[graphql(name = "UPDATEDAT_ASC")]
    UpdatedAtAsc,
}

impl From<SortByEnum> for TimestampOrder {
    fn from(s: SortByEnum) -> Self {
        match s {
            SortByEnum::CreatedAtDesc => TimestampOrder::CreatedAtDesc,
            SortByEnum::CreatedAtAsc => TimestampOrder::CreatedAtAsc,
            SortByEnum::UpdatedAtDesc => TimestampOrder::UpdatedAtDesc,
            SortByEnum::UpdatedAtAsc => TimestampOrder::UpdatedAtAsc,
        }
    }
}

/// v3 member list order (`listDepartmentMembers`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "crate::domain::org_tree::DepartmentMemberSort", rename_items = "PascalCase")]
pub enum DepartmentMemberSortBy {
    #[default]
    JoinDepartmentAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "crate::domain::org_tree::SortOrder", rename_items = "PascalCase")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}
