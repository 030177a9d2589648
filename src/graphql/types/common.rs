use async_graphql::{Enum, SimpleObject};

use crate::{domain::pagination::TimestampOrder, security::tokens::IssuedToken};

/// Answer of a mutation that returns nothing else. `code` is 200 on success.
#[derive(SimpleObject, Debug, Clone)]
pub struct CommonMessage {
    /// What was done, in a few words (e.g. `authorized`).
    pub message: Option<String>,
    /// 200 on success (errors come as GraphQL errors, not as a code here).
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
    /// The token, a JWT (HS256); send it as `Authorization: Bearer <token>`.
    pub access_token: Option<String>,
    /// When the token expires, in Unix seconds.
    pub exp: Option<i64>,
    /// When the token was issued, in Unix seconds.
    pub iat: Option<i64>,
}

/// The same, as `refreshAccessToken` returns it.
#[derive(SimpleObject, Debug, Clone)]
pub struct RefreshAccessTokenRes {
    /// The new token, a JWT (HS256); send it as `Authorization: Bearer <token>`.
    pub access_token: Option<String>,
    /// When the new token expires, in Unix seconds: never later than the session's maximum
    /// lifetime, counted from its login.
    pub exp: Option<i64>,
    /// When the new token was issued, in Unix seconds.
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

/// Order of a list by creation or update time; `CREATEDAT_DESC` by default.
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
    /// When the user joined the department (with children departments included, its earliest
    /// join among them). The default.
    #[default]
    JoinDepartmentAt,
    /// When the user was created.
    CreatedAt,
    /// When the user was last updated.
    UpdatedAt,
}

/// Direction of the v3 member list order (`listDepartmentMembers`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "crate::domain::org_tree::SortOrder", rename_items = "PascalCase")]
pub enum SortOrder {
    /// Ascending: earliest first.
    Asc,
    /// Descending: latest first. The default.
    #[default]
    Desc,
}
